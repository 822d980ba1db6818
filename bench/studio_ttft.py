"""Studio streams: N concurrent open ChatKit streams against uvicorn (N = 100, 500, 1000).

N clients each POST `threads.add_user_message` to /chatkit (token auth) on their own thread and keep the
Server-Sent Events stream open: the web process has claimed the reply, queued its Celery task and is blocked
on the reply's Redis stream (redis.asyncio XREAD, no thread held). No Celery worker runs: once all N streams
are open, this process plays the worker's side with the worker's own publisher format, writing each reply's
first text delta (stamped with the time it was written) at an even pace over `WINDOW_S`, then the rest of the
reply. Measured:

* **TTFT overhead over the provider**: from the first token written to Redis (the moment the provider's
  first token is available to the worker) to its arrival at the client, through uvicorn and the ChatKit
  server (median, p99). The Celery hop before the provider starts is a per-reply constant not included.
* **/healthz latency** while the N streams are open and their tokens flow (p50, p99, 20 probes a second).
* **Memory per open stream**: the uvicorn process's RSS with N streams open minus before, divided by N.

    .venv/bin/python -m bench.studio_ttft [--n 100 500 1000]

Clients, the publisher and uvicorn share the machine's 2 cores, so the figures include the clients' own
cost. Runs on the benchmark database and Redis (`BENCH_DATABASE_URL`, `BENCH_REDIS_URL`; bench/settings.py).
"""

import argparse
import asyncio
import json
import signal
import sys
import time
import uuid

from .common import LOG_DIR, Result, bench_brand, bench_user, child_env, flush_redis, median, ms, percentile

NS = (100, 500, 1000)
WINDOW_S = 2.0  # first tokens are written evenly over this long
TTFT_TARGET_MS = 50.0
HEALTHZ_TARGET_MS = 100.0
OPEN_TIMEOUT_S = 180.0
DELTAS = 5  # text deltas after the first one


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _uvicorn():
    from aicmo.testing.processes import ManagedProcess, free_port, process_env

    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "aicmo.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backlog",
        "4096",
        "--no-access-log",
        "--log-level",
        "info",
    ]
    process = ManagedProcess(
        args, env=process_env(**child_env()), log_path=LOG_DIR / "uvicorn-studio.log", name="uvicorn"
    )
    process.url = f"http://127.0.0.1:{port}"
    return process


def _message(thread_id: str, text: str) -> str:
    return json.dumps(
        {
            "type": "threads.add_user_message",
            "params": {
                "thread_id": thread_id,
                "input": {
                    "content": [{"type": "input_text", "text": text}],
                    "attachments": [],
                    "inference_options": {},
                },
            },
        }
    )


async def _publish(reply_keys: list[tuple[str, str]], redis_url: str) -> None:
    """The worker's side of each reply: events in the worker's publisher format (relay.ReplyPublisher)."""
    import redis.asyncio as aioredis
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageContentPartTextDelta,
        AssistantMessageItem,
        ThreadItemAddedEvent,
        ThreadItemDoneEvent,
        ThreadItemUpdatedEvent,
    )
    from django.utils import timezone

    from creatives.studio.relay import STREAM_TTL_S, stream_key
    from creatives.studio.replay import wrap

    client = aioredis.Redis.from_url(redis_url)

    async def one(thread_id: str, reply_key: str) -> None:
        key = stream_key(reply_key)
        seq = iter(range(1, 1_000_000))

        def dumped(event) -> dict[str, str]:  # an entry of the first delivery, numbered (replay.wrap)
            return {"event": wrap(attempt=1, seq=next(seq), event=event)}

        item = AssistantMessageItem(
            id=f"msg_{uuid.uuid4().hex[:12]}", thread_id=thread_id, created_at=timezone.now(), content=[]
        )
        await client.xadd(key, dumped(ThreadItemAddedEvent(item=item)))
        stamp = f"{time.time():.6f}"  # the provider's first token, as the worker writes it
        first = ThreadItemUpdatedEvent(
            item_id=item.id, update=AssistantMessageContentPartTextDelta(content_index=0, delta=stamp)
        )
        await client.xadd(key, dumped(first))
        text = stamp
        for i in range(DELTAS):
            delta = f" word{i}"
            text += delta
            await client.xadd(
                key,
                dumped(
                    ThreadItemUpdatedEvent(
                        item_id=item.id, update=AssistantMessageContentPartTextDelta(content_index=0, delta=delta)
                    )
                ),
            )
        done = item.model_copy(update={"content": [AssistantMessageContent(text=text)]})
        await client.xadd(key, dumped(ThreadItemDoneEvent(item=done)))
        await client.xadd(key, {"end": "1"})
        await client.expire(key, STREAM_TTL_S)

    pending = []
    gap = WINDOW_S / max(1, len(reply_keys))
    for thread_id, reply_key in reply_keys:
        pending.append(asyncio.create_task(one(thread_id, reply_key)))
        await asyncio.sleep(gap)
    await asyncio.gather(*pending)
    await client.aclose()


async def _measure(n: int, *, url: str, token: str, thread_ids: list[str], pid: int, redis_url: str) -> dict:
    import httpx
    from asgiref.sync import sync_to_async

    from creatives.models import StudioThread

    limits = httpx.Limits(max_connections=n + 50, max_keepalive_connections=n + 50)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    overheads: list[float] = []
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=OPEN_TIMEOUT_S + 60) as client:
        await client.get("/healthz")
        rss_before = _rss_kib(pid)

        async def stream(thread_id: str) -> None:
            first = None
            last = ""
            async with client.stream(
                "POST", "/chatkit", content=_message(thread_id, "Benchmark"), headers=headers
            ) as r:
                if r.status_code != 200:
                    failures.append(f"{r.status_code}: {(await r.aread())[:200]!r}")
                    return
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        last = line
                    if first is None and line.startswith("data: ") and "text_delta" in line:
                        arrived = time.time()
                        event = json.loads(line[6:])
                        first = arrived - float(event["update"]["delta"])
                if first is None:
                    failures.append(f"the stream ended without a token: {last[:300]}")
                else:
                    overheads.append(first)

        started = time.monotonic()
        tasks = [asyncio.create_task(stream(t)) for t in thread_ids]

        def claimed() -> list[tuple[str, str]]:
            return [
                (str(pk), key)
                for pk, key in StudioThread.objects.filter(pk__in=thread_ids)
                .exclude(reply_key="")
                .values_list("pk", "reply_key")
            ]

        keys: list[tuple[str, str]] = []
        while time.monotonic() - started < OPEN_TIMEOUT_S:
            keys = await sync_to_async(claimed, thread_sensitive=False)()
            if len(keys) == n or failures:
                break
            await asyncio.sleep(0.2)
        opened_s = time.monotonic() - started
        if len(keys) != n:
            raise RuntimeError(f"only {len(keys)} of {n} streams opened in {opened_s:.0f} s; {failures[:3]}")
        await asyncio.sleep(0.5)  # let the last ones reach their XREAD
        rss_open = _rss_kib(pid)

        healthz: list[float] = []
        stop = asyncio.Event()

        async def probe() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=30) as prober:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    response = await prober.get("/healthz")
                    healthz.append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        failures.append(f"/healthz answered {response.status_code}")
                    await asyncio.sleep(0.05)

        prober = asyncio.create_task(probe())
        await asyncio.sleep(1.0)  # /healthz with N streams open and quiet …
        await _publish(keys, redis_url)  # … and while their tokens flow
        await asyncio.gather(*tasks)
        stop.set()
        await prober
    if failures:
        raise RuntimeError(f"{len(failures)} failures, e.g. {failures[:3]}")
    return {
        "overheads": overheads,
        "healthz": healthz,
        "opened_s": opened_s,
        "kib_per_stream": (rss_open - rss_before) / n,
        "rss_open_mib": rss_open / 1024,
    }


def run(result: Result, *, ns=NS) -> None:
    from django.conf import settings
    from rest_framework.authtoken.models import Token

    from creatives.models import StudioThread

    brand = bench_brand()
    user = bench_user("bench-studio", brand)
    token = Token.objects.get_or_create(user=user)[0].key
    web = _uvicorn()
    try:
        web.start(ready_text="Uvicorn running", timeout_s=60)
        for n in ns:
            flush_redis()
            StudioThread.objects.filter(user=user).delete()
            threads = StudioThread.objects.bulk_create(
                [StudioThread(user=user, brand=brand, title=f"Bench {i}") for i in range(n)]
            )
            figures = asyncio.run(
                _measure(
                    n,
                    url=web.url,
                    token=token,
                    thread_ids=[str(t.pk) for t in threads],
                    pid=web.proc.pid,
                    redis_url=settings.REDIS_URL,
                )
            )
            over, health = figures["overheads"], figures["healthz"]
            last = n == max(ns)
            result.figure(
                f"studio.ttft_overhead_p99.{n}",
                f"Studio TTFT overhead p99, {n} open streams",
                ms(percentile(over, 99)),
                unit="ms",
                digits=1,
                target=f"≤ {TTFT_TARGET_MS:.0f} ms" if last else "",
                check=(lambda v: v <= TTFT_TARGET_MS) if last else None,
            )
            result.figure(
                f"studio.healthz_p99.{n}",
                f"/healthz p99 with {n} open streams",
                ms(percentile(health, 99)),
                unit="ms",
                digits=1,
                target=f"≤ {HEALTHZ_TARGET_MS:.0f} ms",
                check=lambda v: v <= HEALTHZ_TARGET_MS,
            )
            result.figure(
                f"studio.kib_per_stream.{n}",
                f"Web process memory per open stream ({n})",
                figures["kib_per_stream"],
                unit="KiB",
                digits=0,
            )
            result.note(
                f"N={n}: TTFT overhead median {ms(median(over)):.1f} ms, p99 {ms(percentile(over, 99)):.1f} ms; "
                f"/healthz median {ms(median(health)):.1f} ms, p99 {ms(percentile(health, 99)):.1f} ms "
                f"({len(health)} probes); {figures['kib_per_stream']:.0f} KiB per open stream (uvicorn RSS "
                f"{figures['rss_open_mib']:.0f} MiB with {n} open); all {n} opened in {figures['opened_s']:.1f} s"
            )
    finally:
        web.stop(timeout_s=20)
        flush_redis()
        StudioThread.objects.filter(user=user).delete()


def _table(result: Result) -> str:
    rows = ["| Figure | Value | Target | Met |", "|---|---|---|---|"]
    for figure in result.figures:
        met = "—" if figure.met is None else ("yes" if figure.met else "**no**")
        rows.append(f"| {figure.label} | {figure.shown()} | {figure.target} | {met} |")
    return "\n".join(rows + [""] + [f"- {line}" for line in result.details])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studio_ttft", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=list(NS))
    args = parser.parse_args(argv)

    def stop(signum, frame):  # a SIGTERM unwinds like Ctrl-C, so every `finally` stops what it started
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    from .common import setup_django

    setup_django()
    result = Result(
        name="studio", title="Studio: open ChatKit streams", command=".venv/bin/python -m bench.studio_ttft"
    )
    try:
        run(result, ns=args.n)
    except KeyboardInterrupt:
        print("interrupted: processes stopped", file=sys.stderr)
        return 130
    print(_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
