"""Open waits under ASGI: N concurrent `GET /api/v1/runs/<id>?wait=120` requests (N = 100, 500, 1000) held open
against one uvicorn process (as `make run` serves), on PostgreSQL + Redis.

While they are open: `/healthz` latency (median, p99 of sequential probes, a new connection each, as a load
balancer's), the web process's resident memory per open wait (RSS while open minus RSS before, ÷ N), and its
thread count. Then every run is settled in one UPDATE and announced as `run_finalize` announces it, and the time
from the first announcement to each wait's answer is measured (notified, not polled: the server's
safety re-check is every 5 s). The runs have no worker, so nothing else runs meanwhile. One user holds every wait.
The client side is one asyncio loop writing raw HTTP/1.1 (no thread per connection on the client either).
"""

import asyncio
import http.client
import time
from urllib.parse import urlparse

from .common import LOG_DIR, Result, child_env, flush_redis, median, ms, percentile

SIZES = (100, 500, 1000)
PROBES = 200
HEALTHZ_P99_TARGET_MS = 100.0


def run(result: Result) -> None:
    from rest_framework.authtoken.models import Token

    from aicmo.testing.processes import UVICORN_READY, uvicorn, wait_http

    from .common import bench_brand, bench_user, delete_runs

    brand = bench_brand("bench-waits")
    token = Token.objects.get_or_create(user=bench_user("bench-waits", brand))[0].key
    for size in SIZES:
        delete_runs(brand)
        flush_redis()
        # One user holds every wait: the per-user cap (AICMO_MAX_CONCURRENT_WAITS) is lifted for the measurement.
        web = uvicorn(LOG_DIR / f"uvicorn-waits-{size}.log", **child_env(AICMO_MAX_CONCURRENT_WAITS=str(size)))
        try:
            web.start(ready_text=UVICORN_READY, timeout_s=60)
            wait_http(web.url + "/healthz", timeout_s=60)
            figures = asyncio.run(_measure(web, brand, token, size))
        finally:
            web.stop(timeout_s=20)
            delete_runs(brand)
        _report(result, size, figures)
    result.note(
        "Method: one uvicorn process (`make run`'s server) with `aicmo.settings.dev`, DJANGO_DEBUG=0, PostgreSQL "
        "and Redis; the driver creates N in-flight runs, opens N `?wait=120` requests from one asyncio loop, waits "
        "until every one has been sent and the server is idle, probes `/healthz`, reads the server's VmRSS and "
        "thread count from /proc, then settles the runs and times each answer."
    )


async def _measure(web, brand, token: str, size: int) -> dict:
    from asgiref.sync import sync_to_async

    host, port = urlparse(web.url).hostname, urlparse(web.url).port
    run_ids = await sync_to_async(_create_runs)(brand, size)
    for _ in range(20):  # warm-up: the first requests import and connect
        await asyncio.to_thread(_healthz, host, port)
    await _one_wait(host, port, token, run_ids[0], wait=0)
    rss_before, threads_before = _proc(web.proc.pid)

    answered: dict[str, tuple[int, float]] = {}
    tasks = [
        asyncio.create_task(_one_wait(host, port, token, run_id, wait=120, answered=answered)) for run_id in run_ids
    ]
    await _quiet(web.proc.pid, at_least_s=2 + size / 250)  # every request sent and parked
    probes = []
    for _ in range(PROBES):
        probes.append(await asyncio.to_thread(_healthz, host, port))
        await asyncio.sleep(0.01)
    rss_during, threads_during = _proc(web.proc.pid)
    open_waits = size - len(answered)

    settled_at = await sync_to_async(_settle)(run_ids)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    wake = [at - settled_at for status, at in answered.values()]
    statuses = {status for status, _ in answered.values()}
    return {
        "healthz": probes,
        "rss_per_wait_kib": (rss_during - rss_before) / size,
        "rss_before_mib": rss_before / 1024,
        "threads": (threads_before, threads_during),
        "open": open_waits,
        "wake": wake,
        "statuses": statuses,
    }


def _report(result: Result, size: int, figures: dict) -> None:
    p50, p99 = ms(median(figures["healthz"])), ms(percentile(figures["healthz"], 99))
    result.figure(f"waits.{size}.healthz_p50", f"Waits: /healthz median with {size} open waits", p50, unit="ms")
    result.figure(
        f"waits.{size}.healthz_p99",
        f"Waits: /healthz p99 with {size} open waits",
        p99,
        unit="ms",
        target=f"≤ {HEALTHZ_P99_TARGET_MS:.0f}",
        check=lambda v: v <= HEALTHZ_P99_TARGET_MS,
    )
    result.figure(
        f"waits.{size}.rss",
        f"Waits: web process memory per open wait ({size} open)",
        figures["rss_per_wait_kib"],
        unit="KiB",
        digits=1,
    )
    result.figure(
        f"waits.{size}.wake_p99",
        f"Waits: announcement → answer p99 ({size} waits)",
        ms(percentile(figures["wake"], 99)),
        unit="ms",
        digits=0,
    )
    before, during = figures["threads"]
    result.note(
        f"N = {size}: {figures['open']} of {size} waits open while probed; server threads {before} → {during}; "
        f"RSS before {figures['rss_before_mib']:.1f} MiB; answers {sorted(figures['statuses'])}; announcement → "
        f"answer median {ms(median(figures['wake'])):.0f} ms."
    )


def _create_runs(brand, size: int) -> list[str]:
    from deliverables.models import Module, Run

    runs = Run.objects.bulk_create(
        [Run(module=Module.CAMPAIGNS, brand=brand, trace_id=f"bench-wait-{i}") for i in range(size)]
    )
    return [str(run.run_id) for run in runs]


def _settle(run_ids: list[str]) -> float:
    """Settle every run in one UPDATE, then announce each; returns when the announcing started (monotonic)."""
    from django.db.models import F, Func, JSONField, Value
    from django.utils import timezone

    from deliverables.models import Run
    from deliverables.waiting import run_settled_publish

    error = Func(
        Value("type"),
        Value("PROVIDER_ERROR"),
        Value("message"),
        Value("Benchmark: settled as failed."),
        Value("trace_id"),
        F("trace_id"),
        function="jsonb_build_object",
        output_field=JSONField(),
    )
    Run.objects.filter(run_id__in=run_ids).update(status=Run.Status.FAILED, error=error, finished_at=timezone.now())
    announced_at = time.monotonic()
    for run_id in run_ids:
        run_settled_publish(run_id)
    return announced_at


def _healthz(host: str, port: int) -> float:
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"/healthz answered {response.status}")
    return time.monotonic() - started


async def _one_wait(host: str, port: int, token: str, run_id: str, *, wait: int, answered: dict | None = None):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"GET /api/v1/runs/{run_id}?wait={wait} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Token {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    raw = await reader.read()  # until the server closes
    writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    if answered is not None:
        answered[run_id] = (status, time.monotonic())


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


async def _quiet(pid: int, *, at_least_s: float, timeout_s: float = 180.0) -> None:
    """Wait until the server has used under 5 % of a core for a whole second (the waits have arrived and parked:
    on a loaded machine their arrival takes much longer than on a quiet one), and at least `at_least_s`."""
    started = time.monotonic()
    await asyncio.sleep(at_least_s)
    while time.monotonic() - started < timeout_s:
        before = _cpu_s(pid)
        await asyncio.sleep(1.0)
        if _cpu_s(pid) - before < 0.05:
            return
    raise RuntimeError(f"the server did not go quiet in {timeout_s:.0f} s")


def _proc(pid: int) -> tuple[int, int]:
    """Resident memory (KiB) and thread count of a process."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads
