"""4. Failover: time to a successful answer when the primary provider returns 500, and when it hangs (timeout
5 s), on the calls before its cooldown opens and on those after; the same through LiteLLM's Router, side by side.

Two fake servers in their own processes: a failing primary (`--status 500`, or `--latency 3600`: it accepts and
never answers) and a healthy fallback. Our chain: `openai` at the primary, `groq` (the same OpenAI-compatible
provider class) at the fallback, AICMO_LLM_TIMEOUT_S=5, cooldown after 3 failures in a row (the defaults).
LiteLLM: a Router with two deployments, `fallbacks=[{"primary": ["fallback"]}]`, `num_retries=0`, `timeout=5`,
`allowed_fails=2` (cools down on the third failure, like ours), `cooldown_time=60`. Both stacks are built once
and stay warm (our chain's SDK clients are cached; LiteLLM's Router is built once and its cooldowns are reset
before each round, as ours are), and both log at WARNING. Each figure is the extra time over a healthy call of
the same stack, measured in the same run.
"""

import json
import subprocess
import tempfile
import time

from .common import (
    COMPARED_LOG_LEVEL,
    FAKE_KEY,
    LITELLM_PYTHON,
    ROOT,
    Result,
    fake_server,
    median,
    ms,
    product_log_level,
)

TIMEOUT_S = 5.0
FAILURES_TO_COOL = 3
SLACK_MS = 50.0
SCENARIOS = {  # name: (fake server options, rounds, calls per round)
    "500": ({"status": 500}, 4, 8),
    "hang": ({"latency": 3600.0}, 1, 6),
}


def run(result: Result) -> None:
    from .chain_overhead import bench_request

    request = bench_request()
    with fake_server("healthy", latency=0.0) as healthy:
        with product_log_level(COMPARED_LOG_LEVEL):
            ours = _ours(request, healthy.url + "/v1")
        request_file = _request_file(request, healthy.url + "/v1")
        theirs = _theirs(request_file, healthy.url + "/v1")
    _report(result, "ours", "AICMO chain", ours)
    if isinstance(theirs, str):
        result.note(f"LiteLLM not measured: {theirs}")
    else:
        _report(result, "litellm", f"LiteLLM {theirs.pop('version')} Router", theirs)
    result.note(
        f"timeout {TIMEOUT_S:g} s; a 500 or a timeout is retryable and falls through to the fallback; the "
        f"cooldown opens after {FAILURES_TO_COOL} failures in a row; 'before the cooldown' = calls 1–"
        f"{FAILURES_TO_COOL} of each round (median; each tries the primary first), 'cooled down' = the calls after; "
        "the cooldown is reset before each round, the stacks (clients, Router) are not rebuilt"
    )


def _ours(request, healthy_url: str) -> dict:
    """Each timed call of a scenario is paired with a healthy call through the same chain code (the `groq`
    provider alone, at the healthy server: it leaves the primary's failure count alone)."""
    from django.conf import settings
    from django.test import override_settings

    from aicmo.llm import cooldown
    from aicmo.llm.registry import get_chain

    primary_breaker = cooldown.breaker_key("openai", settings.AICMO_OPENAI_MODEL)

    def configured(primary_url: str, *, primary: str = "openai", fallbacks: tuple[str, ...] = ("groq",)):
        return override_settings(
            OPENAI_API_KEY=FAKE_KEY,
            OPENAI_BASE_URL=primary_url,
            GROQ_API_KEY=FAKE_KEY,
            GROQ_BASE_URL=healthy_url,
            AICMO_LLM_PRIMARY_PROVIDER=primary,
            AICMO_LLM_FALLBACK_PROVIDERS=list(fallbacks) or [primary],
            AICMO_FORCE_LLM_PROVIDER_FAIL=[],
            AICMO_LLM_TIMEOUT_S=TIMEOUT_S,
            AICMO_COOLDOWN_FAILURES=FAILURES_TO_COOL,
            AICMO_COOLDOWN_S=60.0,
        )

    def timed(primary_url: str, **kwargs) -> tuple[float, str]:
        with configured(primary_url, **kwargs):
            started = time.perf_counter()
            completion = get_chain().complete(request)
            return time.perf_counter() - started, completion.provider

    out: dict = {"healthy": []}
    for _ in range(10):  # warm both providers' clients
        timed(healthy_url)
        timed(healthy_url, primary="groq", fallbacks=())
    for name, (options, rounds, calls) in SCENARIOS.items():
        with fake_server(f"primary-{name}", **options) as primary:
            rounds_out = []
            for _ in range(rounds):
                cooldown.reset(primary_breaker)
                times, providers = [], []
                for _ in range(calls):
                    out["healthy"].append(timed(healthy_url, primary="groq", fallbacks=())[0])
                    took, provider = timed(primary.url + "/v1")
                    times.append(took)
                    providers.append(provider)
                rounds_out.append({"times": times, "providers": providers})
            cooldown.reset(primary_breaker)
        out[name] = rounds_out
    return out


def _request_file(request, base_url: str) -> str:
    from django.test import override_settings

    from aicmo.llm.registry import build_provider

    with override_settings(OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=base_url):
        params = build_provider("openai")._params(request)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump(params, spec)
    return spec.name


def _theirs(request_file: str, healthy_url: str) -> dict | str:
    if not LITELLM_PYTHON.exists():
        return f"{LITELLM_PYTHON} is missing (`make bench` installs it from bench/requirements-litellm.txt)"
    out: dict = {"healthy": []}
    for name, (options, rounds, calls) in SCENARIOS.items():
        with fake_server(f"litellm-primary-{name}", **options) as primary:
            data = _side(
                [
                    "--primary",
                    primary.url + "/v1",
                    "--fallback",
                    healthy_url,
                    "--rounds",
                    str(rounds),
                    "--calls",
                    str(calls),
                    "--allowed-fails",
                    str(FAILURES_TO_COOL - 1),
                ],
                request_file,
            )
        if "error" in data:
            return data["error"]
        out["version"] = data["litellm"]
        out["healthy"] += [t for r in data["rounds"] for t in r["healthy"]]
        out[name] = [{"times": r["times"], "errors": r["errors"]} for r in data["rounds"]]
    return out


def _side(args: list[str], request_file: str) -> dict:
    completed = subprocess.run(
        [
            str(LITELLM_PYTHON),
            str(ROOT / "bench" / "litellm_side.py"),
            "failover",
            "--request",
            request_file,
            "--timeout",
            str(TIMEOUT_S),
            "--log-level",
            COMPARED_LOG_LEVEL,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {completed.returncode}"}
    return json.loads(completed.stdout.strip().splitlines()[0])


def _report(result: Result, key: str, who: str, data: dict) -> None:
    healthy = median(data["healthy"])
    result.note(f"{who}: healthy call {ms(healthy):.1f} ms (median of {len(data['healthy'])})")
    for name in SCENARIOS:
        rounds = data[name]
        before = [t for r in rounds for t in r["times"][:FAILURES_TO_COOL] if t is not None]
        after = [t for r in rounds for t in r["times"][FAILURES_TO_COOL:] if t is not None]
        failed = sum(1 for r in rounds for t in r["times"] if t is None)
        first = median(before) - healthy if before else None
        cooled = median(after) - healthy if after else None
        if name == "500":
            first_target, first_check = f"≤ {SLACK_MS:g} ms", (lambda v: v <= SLACK_MS)
        else:
            first_target = f"≤ the timeout ({TIMEOUT_S * 1000:g} ms) + {SLACK_MS:g} ms"

            def first_check(v: float) -> bool:
                return v <= TIMEOUT_S * 1000 + SLACK_MS

        ours = key == "ours"
        result.figure(
            f"failover.{key}.{name}.first",
            f"{who}: primary {'returns 500' if name == '500' else 'hangs'}, calls before the cooldown opens, "
            "extra over a healthy call",
            None if first is None else ms(first),
            unit="ms",
            digits=1,
            target=first_target if ours else "(comparison)",
            check=first_check if ours else None,
        )
        result.figure(
            f"failover.{key}.{name}.cooled",
            f"{who}: primary {'returns 500' if name == '500' else 'hangs'}, cooled down, extra over a healthy call",
            None if cooled is None else ms(cooled),
            unit="ms",
            digits=1,
            target=f"≤ {SLACK_MS:g} ms" if ours else "(comparison)",
            check=(lambda v: v <= SLACK_MS) if ours else None,
        )
        per_call = " | ".join(", ".join("failed" if t is None else f"{ms(t):.0f}" for t in r["times"]) for r in rounds)
        errors = {e for r in rounds for e in r.get("errors", [])}
        providers = {p for r in rounds for p in r.get("providers", [])}
        result.note(
            f"{who}, primary {name}: call times in ms per round: {per_call}"
            + (f"; answered by {', '.join(sorted(providers))}" if providers else "")
            + (f"; {failed} calls failed: {'; '.join(sorted(errors))[:300]}" if failed else "")
        )
