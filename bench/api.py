"""5. API: requests per second and p50 / p99 of `POST /api/v1/campaigns/generate?wait=0` (what a client that does
not wait sends: the run is saved and its 5 tasks published, 202 at once; no worker runs) on PostgreSQL + Redis at
32 concurrent keep-alive clients, as a ratio to a truly bare authenticated endpoint measured in the same run.

The server is production's: gunicorn with uvicorn workers (ASGI), 3 workers (docker-compose's WEB_CONCURRENCY
default), `aicmo.settings.production`; the only difference is its URLconf, bench/urls.py (bench.server_settings):
the product's URLs plus `GET /bench/bare`, a DRF view answering a constant after the product API's
authentication (token first) and permission classes: no throttle, no pagination, no brand scoping, no query but
the token's. Requests carry `X-Forwarded-Proto: https`, as the HTTPS proxy production requires sends. The
brand-scoped, annotated, paginated run list (`GET /api/v1/runs/?module=studio`, the baseline of earlier
versions) is measured too, as an informative figure. Each client is a different user with their own token (the
generate throttle is per user; its rate is raised for the benchmark, so it is exercised but never refuses). The
endpoints alternate in rounds and the ratio is the median of the rounds' ratios. Load generator: `wrk` when
installed (one thread per connection), else a Python thread pool with keep-alive connections.
"""

import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
from urllib.parse import urlparse

from .common import LOG_DIR, Result, child_env, flush_redis, group_cpu_s, median, percentile
from .urls import BARE_PATH

CLIENTS = 32
ROUNDS = 7
PHASE_S = 3
WARMUP_S = 3
TARGET = 0.5
WORKERS = 3  # docker-compose's WEB_CONCURRENCY default (and the Dockerfile's --workers)
LIST_PATH = "/api/v1/runs/?module=studio"
GENERATE_PATH = "/api/v1/campaigns/generate?wait=0"
HEADERS = {"X-Forwarded-Proto": "https"}  # what production's HTTPS proxy sends (SECURE_PROXY_SSL_HEADER)
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.server_settings",
    "DJANGO_SECRET_KEY": "bench-insecure-secret-key-of-at-least-32-characters",
    "AICMO_GENERATE_RATE": "1000000/min",
}
BRIEF = {
    "campaign_name": "Q1 Launch",
    "platforms": ["LinkedIn", "Email"],
    "budget": 5000,
    "objectives": ["Awareness"],
    "audience": "Urban professionals",
}
PHASES = (("bare", "GET", BARE_PATH), ("generate", "POST", GENERATE_PATH), ("list", "GET", LIST_PATH))


def run(result: Result) -> None:
    from aicmo.testing.processes import gunicorn, wait_http
    from deliverables.models import Run

    from .common import bench_brand, delete_runs

    tokens = _tokens()
    delete_runs(bench_brand("bench-api"))
    flush_redis()
    web = gunicorn(LOG_DIR / "gunicorn-api.log", workers=WORKERS, **child_env(**SERVER_ENV))
    tool = "wrk" if shutil.which("wrk") else "python"
    rounds: list[dict] = []
    try:
        web.start(ready_text="Booting worker", timeout_s=60)
        wait_http(web.url + "/healthz", timeout_s=60)
        for _, method, path in PHASES:
            _load(tool, web.url, method, path, tokens, WARMUP_S)
        for _ in range(ROUNDS):
            phases = {}
            for name, method, path in PHASES:
                cpu = group_cpu_s([web.proc.pid])
                runs_before = Run.objects.count()
                phases[name] = _load(tool, web.url, method, path, tokens, PHASE_S)
                phases[name]["cpu_ms"] = (group_cpu_s([web.proc.pid]) - cpu) * 1000
                phases[name]["runs_created"] = Run.objects.count() - runs_before
            rounds.append(phases)
    finally:
        web.stop(timeout_s=20)
        flush_redis()  # the enqueued generation tasks: no worker will take them
        delete_runs(bench_brand("bench-api"))

    ratios = [r["generate"]["rps"] / max(r["bare"]["rps"], 1e-9) for r in rounds]
    ratio = median(ratios)
    result.figure(
        "api.ratio",
        "API: generate throughput ÷ bare authenticated endpoint (constant after token auth) throughput",
        ratio,
        target=f"≥ {TARGET}",
        check=lambda v: v >= TARGET,
    )
    cpu_ratio = median([_cpu_per_request(r["bare"]) / max(_cpu_per_request(r["generate"]), 1e-9) for r in rounds])
    result.figure(
        "api.cpu_ratio",
        "API: web server CPU per bare request ÷ per generate request (cross-check)",
        cpu_ratio,
        target="(informative)",
    )
    result.figure(
        "api.list_ratio",
        f"API: generate throughput ÷ GET {LIST_PATH} (brand-scoped paginated list) throughput",
        median([r["generate"]["rps"] / max(r["list"]["rps"], 1e-9) for r in rounds]),
        target="(informative)",
    )
    labels = (
        ("generate", f"POST {GENERATE_PATH}"),
        ("bare", f"GET {BARE_PATH} (bare: constant after token auth)"),
        ("list", f"GET {LIST_PATH}"),
    )
    for name, label in labels:
        result.figure(
            f"api.{name}.rps",
            f"API: {label}, requests/s",
            median([r[name]["rps"] for r in rounds]),
            unit="req/s",
            digits=0,
        )
        result.figure(
            f"api.{name}.p50", f"API: {label}, p50", median([r[name]["p50_ms"] for r in rounds]), unit="ms", digits=1
        )
        result.figure(
            f"api.{name}.p99", f"API: {label}, p99", median([r[name]["p99_ms"] for r in rounds]), unit="ms", digits=1
        )
    for i, r in enumerate(rounds, 1):
        parts = []
        for name, _, _ in PHASES:
            p = r[name]
            parts.append(
                f"{name} {p['rps']:.0f} req/s (p50 {p['p50_ms']:.1f}, p99 {p['p99_ms']:.1f} ms, {p['requests']} "
                f"requests, {p['bad']} not 2xx, server CPU {_cpu_per_request(p):.1f} ms per request"
                + (f", {p['runs_created']} runs created)" if name == "generate" else ")")
            )
        result.note(f"round {i}: " + "; ".join(parts) + f"; ratio {ratios[i - 1]:.2f}")
    result.note(
        f"{CLIENTS} concurrent keep-alive clients (each its own user and token), {PHASE_S} s per phase, "
        f"{ROUNDS} rounds after {WARMUP_S} s warm-up of each; load generator: {tool}; gunicorn "
        f"{WORKERS} workers of uvicorn_worker.UvicornWorker (ASGI), aicmo.settings.production with the bench "
        f"URLconf (bench/urls.py), X-Forwarded-Proto: https; a generate request is the README's brief with "
        "`?wait=0` (5 slots: the run, its campaign and 5 deliverables saved, 5 tasks published to Redis). The "
        "CPU cross-check divides the web processes' CPU time by the requests served in each phase: it does not "
        "move with the load other work puts on the shared machine, and the throughput ratio tends to it when "
        "the web tier is CPU-bound"
    )
    bad = sum(r[n]["bad"] for r in rounds for n, _, _ in PHASES)
    if bad:
        result.error = f"{bad} responses were not 2xx (see {LOG_DIR / 'gunicorn-api.log'})"


def _cpu_per_request(phase: dict) -> float:
    return phase["cpu_ms"] / max(1, phase["requests"])


def _tokens() -> list[str]:
    from rest_framework.authtoken.models import Token

    from .common import bench_brand, bench_user

    brand = bench_brand("bench-api")
    return [Token.objects.get_or_create(user=bench_user(f"bench-api-{i:02d}", brand))[0].key for i in range(CLIENTS)]


def _load(tool: str, base_url: str, method: str, path: str, tokens: list[str], seconds: int) -> dict:
    body = json.dumps(BRIEF) if method == "POST" else None
    if tool == "wrk":
        return _wrk(base_url, method, path, body, tokens, seconds)
    return _python_load(base_url, method, path, body, tokens, seconds)


_WRK_SCRIPT = """
local tokens = {%(tokens)s}
local next_token = 1
function setup(thread)
  thread:set("token", tokens[next_token])
  next_token = next_token + 1
end
function init(args)
  wrk.method = "%(method)s"
  wrk.headers["Authorization"] = "Token " .. token
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Forwarded-Proto"] = "https"
  %(body)s
end
function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "bad": %%d, "errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(base_url: str, method: str, path: str, body: str | None, tokens: list[str], seconds: int) -> dict:
    script = _WRK_SCRIPT % {
        "tokens": ", ".join(f'"{t}"' for t in tokens),
        "method": method,
        "body": f"wrk.body = {json.dumps(body)}" if body else "",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    completed = subprocess.run(
        [
            "wrk",
            "-t",
            str(len(tokens)),
            "-c",
            str(len(tokens)),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            lua.name,
            base_url + path,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {completed.stdout[-500:]} {completed.stderr[-500:]}")
    data = json.loads(line)
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "requests": data["requests"],
        "bad": data["bad"] + data["errors"],
    }


def _python_load(base_url: str, method: str, path: str, body: str | None, tokens: list[str], seconds: int) -> dict:
    url = urlparse(base_url)
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(token: str) -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", **HEADERS}
        mine, errors = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                ok = False
            mine.append(time.perf_counter() - started)
            errors += not ok
        connection.close()
        with lock:
            latencies.extend(mine)
            bad[0] += errors

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "requests": len(latencies),
        "bad": bad[0],
    }
