"""docs/benchmarks.md, rewritten from this run's results and the previous document's (for benchmarks not run).

The results travel inside the document itself, as JSON in an HTML comment at its end, so a subset run on a
fresh clone keeps every other figure. `bench/findings.md` (written by hand: causes found, fixes, before and
after) is included as it is.
"""

import json
import re
from pathlib import Path

from .common import ROOT, Result

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

INTRO = """# Benchmarks

Measured by `make bench` (= `.venv/bin/python -m bench`; one benchmark or a few: `.venv/bin/python -m bench
fanout chain`) against the local fake LLM server (`aicmo/testing/fake_llm_server.py`), with real processes: Celery
workers (prefork) and gunicorn on PostgreSQL (`aicmo_bench`) and Redis (database 9). The machine is shared and
small, so **every figure is a ratio or a difference measured within one run** (a run's wall time ÷ one call's
latency, the chain vs a plain SDK call interleaved, one endpoint vs another in the same minute), and a median
over repeated samples. Absolute times are given only where the target is absolute (failover, exports).
Benchmarks are not tests: they never fail a build. The code is in `bench/`; each benchmark's section says how
it measures. This file is rewritten by every run (the findings section comes from `bench/findings.md`)."""


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
    DOC.write_text(render(ordered))
    return DOC


def render(results: list[Result]) -> str:
    lines = [INTRO, "", "## Summary", ""]
    lines += ["| # | figure | measured | target | met | made by | when |", "|---|---|---|---|---|---|---|"]
    for result in results:
        number = ORDER.index(result.name) + 1  # the numbering of the benchmark issue
        when = result.started[:10]
        if not result.figures:
            reason = result.error or "not measured"
            lines.append(
                f"| {number} | {result.title} | — | — | not measured: {_cell(reason)} | `{result.command}` | {when} |"
            )
        for figure in result.figures:
            met = "" if figure.met is None else ("yes" if figure.met else "**no**")
            lines.append(
                f"| {number} | {_cell(figure.label)} | {figure.shown()} | {_cell(figure.target)} | {met} | "
                f"`{result.command}` | {when} |"
            )
    lines.append("")
    for result in results:
        lines += _section(result)
    if FINDINGS.exists():
        lines += ["## Findings, fixes and proposals", "", FINDINGS.read_text().strip(), ""]
    payload = json.dumps([r.as_dict() for r in results], indent=1, ensure_ascii=False)
    lines += ["<!-- bench-results", payload.replace("-->", "--\\u003e"), "-->", ""]
    return "\n".join(lines)


def _section(result: Result) -> list[str]:
    machine = result.machine
    lines = [
        f"## {result.title}",
        "",
        f"Made by `{result.command}` (alone: `.venv/bin/python -m bench {result.name}`) — {result.started}, "
        f"{result.duration_s:.0f} s; machine: {machine.get('cores')} "
        f"cores ({machine.get('cpu', '?')}), Python {machine.get('python')}, load average at the start "
        f"{machine.get('load', '?')}.",
        "",
    ]
    if result.error:
        lines += [f"**Problem:** {result.error}", ""]
    if result.figures:
        lines += ["| figure | measured | target | met |", "|---|---|---|---|"]
        for figure in result.figures:
            met = "" if figure.met is None else ("yes" if figure.met else "**no**")
            lines.append(f"| {_cell(figure.label)} | {figure.shown()} | {_cell(figure.target)} | {met} |")
        lines.append("")
    lines += [f"- {line}" for line in result.details]
    lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
