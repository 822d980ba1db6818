"""docs/benchmarks.md, rewritten from this run's results and the previous document's (for benchmarks not run).

The results travel inside the document itself, as JSON in an HTML comment at its end, so a subset run on a
fresh clone keeps every other figure. `bench/findings.md` (written by hand: causes found, fixes, before and
after) is included as it is.
"""

import json
import re
from pathlib import Path

from .chart import REFERENCE_COLOUR, Series, Target, line_chart
from .common import ROOT, Figure, Result, code_state, same_code, short_sha

DOC = ROOT / "docs" / "benchmarks.md"
FINDINGS = Path(__file__).with_name("findings.md")
ORDER = [
    "fanout",
    "throughput",
    "chain",
    "failover",
    "api",
    "pages",
    "exports",
    "studio",
    "makerun",
    "waits",
    "shortener",
]
_MARK = re.compile(r"<!-- bench-results\n(.*?)\n-->", re.S)
BUSY_OTHERS_PCT = 25.0  # other processes' share of the machine's CPU above which a section says so

INTRO = """# Benchmarks

Measured by `make bench` (= `.venv/bin/python -m bench`; one benchmark or a few: `.venv/bin/python -m bench
fanout chain`) against the local fake LLM server (`aicmo/testing/fake_llm_server.py`), with real processes: Celery
workers (prefork), gunicorn and uvicorn on PostgreSQL and Redis (`BENCH_DATABASE_URL`, `BENCH_REDIS_URL`). The
machine is shared and small, so **every figure is a ratio or a difference measured within one run** (a run's wall
time ÷ one call's latency, the chain vs a plain SDK call interleaved, one endpoint vs another in the same minute),
and a median over repeated samples. Absolute times are given only where the target is absolute (failover,
exports, streams). Benchmarks are not tests: they never fail a build. The code is in `bench/`; each benchmark's
section says how it measures. This file is rewritten by every run (the findings section comes from
`bench/findings.md`).

**Which code a figure describes.** Every section records the commit it measured (`git rev-parse HEAD`, "-dirty"
when the work tree had changes, untracked files included, outside this file, its charts `docs/bench-*.svg` and
`bench/findings.md`), the machine and its load. A target is marked met or not only for figures that measure the
current code: measured on a clean work tree, the work tree clean when this file was written, and `git diff --quiet
<measured> HEAD -- . ':(exclude)docs/benchmarks.md' ':(exclude)docs/bench-*.svg' ':(exclude)bench/findings.md'`
true (so a commit of these results, or of findings, keeps them current). Other figures show **stale** instead of
yes/no until their benchmark runs again; "met" is decided when this file is written."""


def load_previous() -> dict[str, Result]:
    if not DOC.exists():
        return {}
    match = _MARK.search(DOC.read_text())
    if not match:
        return {}
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return {}
    return {item["name"]: Result.from_dict(item) for item in data}


def write(results: list[Result]) -> Path:
    merged = load_previous()
    for result in results:
        merged[result.name] = result
    ordered = [merged[name] for name in ORDER if name in merged]
    drawn = charts(ordered)
    for filename, svg, _ in drawn.values():
        (DOC.parent / filename).write_text(svg)
    DOC.write_text(render(ordered, current=code_state(), drawn=drawn))
    return DOC


def verdict(figure: Figure, current: bool) -> str:
    """The "met" cell: empty without a target, "stale" for figures of other code than the current."""
    if figure.met is None:
        return ""
    if not current:
        return "stale"
    return "yes" if figure.met else "**no**"


def render(results: list[Result], *, current: dict, drawn: dict | None = None) -> str:
    drawn = drawn or {}
    fresh = {result.name: same_code(result.commit, current) for result in results}
    lines = [INTRO, "", f"Current code when this file was written: `{short_sha(current)}`.", ""]
    lines += ["## Summary", ""]
    lines += [
        "| # | figure | measured | target | met | commit | made by | when |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        number = ORDER.index(result.name) + 1  # the numbering of the benchmark issue
        when = result.started[:10]
        commit = f"`{short_sha(result.commit)}`"
        if not result.figures:
            reason = result.error or "not measured"
            lines.append(
                f"| {number} | {result.title} | — | — | not measured: {_cell(reason)} | {commit} | "
                f"`{result.command}` | {when} |"
            )
        for figure in result.figures:
            lines.append(
                f"| {number} | {_cell(figure.label)} | {figure.shown()} | {_cell(figure.target)} | "
                f"{verdict(figure, fresh[result.name])} | {commit} | `{result.command}` | {when} |"
            )
    lines.append("")
    for result in results:
        lines += _section(result, fresh[result.name], drawn.get(result.name))
    lines += _targets(results, fresh)
    if FINDINGS.exists():
        lines += ["## Findings, fixes and proposals", "", FINDINGS.read_text().strip(), ""]
    payload = json.dumps([r.as_dict() for r in results], indent=1, ensure_ascii=False)
    lines += ["<!-- bench-results", payload.replace("-->", "--\\u003e"), "-->", ""]
    return "\n".join(lines)


def _section(result: Result, fresh: bool, chart: tuple | None) -> list[str]:
    machine, load, commit = result.machine, result.load, result.commit
    ram = f", {machine['ram_gib']:g} GiB RAM" if machine.get("ram_gib") else ""
    lines = [
        f"## {result.title}",
        "",
        f"Made by `{result.command}` (alone: `.venv/bin/python -m bench {result.name}`) at commit "
        f"`{short_sha(commit)}` — {result.started}, {result.duration_s:.0f} s; machine: {machine.get('cores')} "
        f"cores ({machine.get('cpu', '?')}){ram}, Python {machine.get('python')}; {_load_text(machine, load)}",
        "",
    ]
    if commit.get("dirty") and commit.get("changed"):
        lines += [f"Uncommitted changes when measured: {', '.join(f'`{path}`' for path in commit['changed'])}.", ""]
    if not fresh:
        lines += [
            "**Stale:** "
            + (
                "no commit was recorded with these figures"
                if not commit.get("sha")
                else "measured on a work tree with uncommitted changes"
                if commit.get("dirty")
                else "the code has changed since the commit measured"
            )
            + "; its targets are not marked met or missed until it runs again.",
            "",
        ]
    if result.error:
        lines += [f"**Problem:** {result.error}", ""]
    if result.figures:
        lines += ["| figure | measured | target | met |", "|---|---|---|---|"]
        for figure in result.figures:
            lines.append(
                f"| {_cell(figure.label)} | {figure.shown()} | {_cell(figure.target)} | {verdict(figure, fresh)} |"
            )
        lines.append("")
    if chart:
        filename, _, alt = chart
        lines += [f"![{alt}]({filename})", ""]
    lines += [f"- {line}" for line in result.details]
    lines.append("")
    return lines


def _load_text(machine: dict, load: dict) -> str:
    if not load:
        return f"load average at the start {machine.get('load', '?')}."
    text = (
        f"load average {load['start']} at the start, {load['end']} at the end; CPU busy "
        f"{load['machine_busy_pct']:g} % of the machine, {load['own_pct']:g} % by this benchmark's processes, "
        f"{load['others_pct']:g} % by others"
    )
    if load.get("others_top"):
        text += " (" + ", ".join(f"{name} {pct:g} %" for name, pct in load["others_top"]) + ")"
    busy = load["others_pct"] >= BUSY_OTHERS_PCT
    return text + (". **Other processes were busy: the figures may be pessimistic.**" if busy else ".")


def _targets(results: list[Result], fresh: dict[str, bool]) -> list[str]:
    """The closing note: every figure with a target, met, missed or stale."""
    lines = ["## Targets", ""]
    for result in results:
        for figure in result.figures:
            if figure.met is None:
                continue
            state = verdict(figure, fresh[result.name]).replace("yes", "met").replace("**no**", "**missed**")
            lines.append(
                f"- {state}: {figure.label}: {figure.shown()} (target {figure.target}; `{short_sha(result.commit)}`)"
            )
    return [*lines, ""]


# --- charts (bench/chart.py): docs/bench-<name>.svg ----------------------------------------------------------


def charts(results: list[Result]) -> dict[str, tuple[str, str, str]]:
    """Benchmark name -> (file name next to DOC, SVG, alt text), for the benchmarks with something to draw."""
    by_name = {result.name: result for result in results}
    out = {}
    fanout = by_name.get("fanout")
    points = _points(fanout, r"fanout\.(\d+)") if fanout else []
    if len(points) >= 2:
        limit = _target(fanout, r"fanout\.6")
        svg = line_chart(
            [Series("run wall time ÷ one call (median)", points)],
            title="Fan-out: a run of N deliverables ÷ one provider call",
            x_label="deliverables in the run",
            y_label="wall time ÷ one call (×)",
            targets=[Target("ideal: every slot in parallel, 1×", 1.0, REFERENCE_COLOUR)]
            + ([Target(f"target at 6: {limit:g}×", limit)] if limit else []),
            caption=_caption(fanout),
        )
        out["fanout"] = ("bench-fanout.svg", svg, "Fan-out ratio against the number of deliverables")
    studio = by_name.get("studio")
    ttft = _points(studio, r"studio\.ttft_overhead_p99\.(\d+)") if studio else []
    if len(ttft) >= 2:
        healthz = _points(studio, r"studio\.healthz_p99\.(\d+)")
        targets = []
        if (limit := _target(studio, r"studio\.ttft_overhead_p99\.\d+")) is not None:
            targets.append(Target(f"TTFT target {limit:g} ms", limit))
        if (limit := _target(studio, r"studio\.healthz_p99\.\d+")) is not None:
            targets.append(Target(f"/healthz target {limit:g} ms", limit))
        series = [Series("TTFT overhead p99", ttft)] + ([Series("/healthz p99", healthz)] if healthz else [])
        svg = line_chart(
            series,
            title="Studio: time-to-first-token overhead against open streams",
            x_label="concurrent open ChatKit streams",
            y_label="milliseconds (p99)",
            targets=targets,
            caption=_caption(studio),
        )
        out["studio"] = ("bench-ttft.svg", svg, "TTFT overhead p99 and /healthz p99 against open streams")
    return out


def _points(result: Result, pattern: str) -> list[tuple[float, float]]:
    key = re.compile(pattern + "$")
    return [
        (float(match.group(1)), figure.value)
        for figure in result.figures
        if figure.value is not None and (match := key.match(figure.key))
    ]


def _target(result: Result, pattern: str) -> float | None:
    """The number of the "≤ N" target of the first figure whose key matches `pattern`, if one has a target."""
    key = re.compile(pattern + "$")
    for figure in result.figures:
        if key.match(figure.key) and (match := re.search(r"≤\s*([0-9.]+)", figure.target)):
            return float(match.group(1))
    return None


def _caption(result: Result) -> str:
    return f"python -m bench {result.name}, commit {short_sha(result.commit)}, {result.started[:16]}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
