"""Studio streams: N concurrent open ChatKit streams against uvicorn (N = 100, 500, 1000).

N clients each POST `threads.add_user_message` to /chatkit (token auth) and keep the Server-Sent Events stream
open: the web process has claimed the reply, queued its Celery task and waits for the reply's events (one
pub/sub connection per web process fans them out to the open streams; creatives/studio/relay.py). No Celery
worker runs: once all N streams are open, a separate publisher process plays the workers' side with the
workers' own publisher script (`relay.APPEND_SCRIPT`) and numbering (`relay.ReplyPublisher.entry`: attempt and
sequence, as the web side's replay.py expects), writing each reply's first text delta (stamped with the time it
was written) at an even pace over `WINDOW_S`, then the rest of the reply. Measured:

* **TTFT overhead over the provider**: from the first token written to Redis (the moment the provider's
  first token is available to the worker) to its arrival at the client, through uvicorn and the ChatKit
  server (median, p99). The Celery hop before the provider starts is not included: it is a per-reply constant
  only while a worker slot is free (see docs/benchmarks.md on worker capacity).
* **/healthz latency** while the N streams are open and their tokens flow (p50, p99, 20 probes a second, a new
  connection each, as a load balancer's).
* **Memory per open stream**: the uvicorn process's RSS with N streams open minus before (after a warm-up
  request has imported the ChatKit server), divided by N; and its thread count (an open stream holds none).

    .venv/bin/python -m bench.studio_ttft [--n 100 500 1000]

The client is one asyncio loop speaking raw HTTP/1.1 (a protocol per connection, the arrival time taken when
the bytes are read; no HTTP library between), the publisher another process; client, publisher and uvicorn
share the machine's 2 cores, so the figures include the clients' own cost (the CPU seconds each used are
reported). Runs on the benchmark database and Redis (`BENCH_DATABASE_URL`, `BENCH_REDIS_URL`; bench/settings.py).
"""

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

from .common import LOG_DIR, Result, bench_brand, bench_user, child_env, flush_redis, median, ms, percentile

NS = (100, 500, 1000)
WINDOW_S = 2.0  # first tokens are written evenly over this long
TTFT_TARGET_MS = 50.0
HEALTHZ_TARGET_MS = 100.0
OPEN_TIMEOUT_S = 180.0
DELTAS = 5  # text deltas after the first one
CLK_TCK = 100  # /proc/<pid>/stat ticks per second (Linux)


def _proc(pid: int) -> tuple[int, int, float]:
    """Resident memory (KiB), threads and CPU seconds of a process."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return rss, threads, (int(fields[11]) + int(fields[12])) / CLK_TCK


def _uvicorn(max_streams: int):
    from aicmo.testing.processes import uvicorn

    # The cap on one user's open streams is lifted: one user holds every stream here.
    env = child_env(AICMO_MAX_CONCURRENT_STREAMS=str(max_streams))
    return uvicorn(LOG_DIR / "uvicorn-studio.log", extra_args=["--backlog", "4096"], **env)


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
    """The worker's side of each reply: entries numbered by the worker's publisher (relay.ReplyPublisher.entry),
    written through its script (relay.APPEND_SCRIPT)."""
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

    from creatives.studio.relay import APPEND_SCRIPT, ReplyPublisher, append_args

    client = aioredis.Redis.from_url(redis_url)
    append = client.register_script(APPEND_SCRIPT)

    async def add(reply_key: str, field: str, value: str) -> None:
        keys, args = append_args(reply_key, field, value)
        await append(keys=keys, args=args)

    async def one(thread_id: str, reply_key: str) -> None:
        # The worker's publisher numbers the entries (attempt 1, seq 1, 2, …: replay.wrap); they are sent here
        # through the same script, on this process's asyncio connection.
        entries = ReplyPublisher(reply_key, attempt=1)

        def dumped(event) -> str:
            return entries.entry(event)

        item = AssistantMessageItem(
            id=f"msg_{uuid.uuid4().hex[:12]}", thread_id=thread_id, created_at=timezone.now(), content=[]
        )
        await add(reply_key, "event", dumped(ThreadItemAddedEvent(item=item)))
        stamp = f"{time.time():.6f}"  # the provider's first token, as the worker writes it
        first = ThreadItemUpdatedEvent(
            item_id=item.id, update=AssistantMessageContentPartTextDelta(content_index=0, delta=stamp)
        )
        await add(reply_key, "event", dumped(first))
        text = stamp
        for i in range(DELTAS):
            delta = f" word{i}"
            text += delta
            update = AssistantMessageContentPartTextDelta(content_index=0, delta=delta)
            await add(reply_key, "event", dumped(ThreadItemUpdatedEvent(item_id=item.id, update=update)))
        done = item.model_copy(update={"content": [AssistantMessageContent(text=text)]})
        await add(reply_key, "event", dumped(ThreadItemDoneEvent(item=done)))
        await add(reply_key, "end", "1")

    await append(keys=["aicmo:bench:warm", "aicmo:bench:warm"], args=["end", "1", 10])  # the script is loaded
    pending = []
    gap = WINDOW_S / max(1, len(reply_keys))
    started = time.monotonic()
    for i, (thread_id, reply_key) in enumerate(reply_keys):
        pending.append(asyncio.create_task(one(thread_id, reply_key)))
        await asyncio.sleep(max(0.0, started + (i + 1) * gap - time.monotonic()))
    await asyncio.gather(*pending)
    await client.aclose()


def _publisher_main(keys_path: str, redis_url: str) -> int:
    """`python -m bench.studio_ttft --publish KEYS.json REDIS_URL`: the workers' side, in a process of its own."""
    import django
    from django.conf import settings

    settings.configure(USE_TZ=True)
    django.setup()
    reply_keys = [tuple(pair) for pair in json.loads(Path(keys_path).read_text())]
    asyncio.run(_publish(reply_keys, redis_url))
    return 0


class _Stream(asyncio.Protocol):
    """One open ChatKit answer: the raw bytes, and when the first text delta arrived."""

    def __init__(self, request: bytes):
        self.request, self.buffer, self.first_at = request, bytearray(), None
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        transport.write(self.request)

    def data_received(self, data: bytes):
        self.buffer += data
        if self.first_at is None and b"text_delta" in self.buffer:
            self.first_at = time.time()

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)

    def outcome(self) -> tuple[float | None, str]:
        """(TTFT overhead in seconds, or None; what went wrong otherwise)."""
        raw = bytes(self.buffer)
        if not raw.startswith(b"HTTP/1.1 200"):
            return None, raw[:300].decode(errors="replace")
        if self.first_at is None:
            return None, f"the stream ended without a token: {raw[-300:].decode(errors='replace')}"
        for line in raw.split(b"\n"):
            if line.startswith(b"data: ") and b"text_delta" in line:
                return self.first_at - float(json.loads(line[6:])["update"]["delta"]), ""
        return None, "no text delta line"


async def _healthz(host: str, port: int) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    raw = await reader.read()  # until the server closes
    writer.close()
    if not raw.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"/healthz answered {raw[:100]!r}")
    return time.perf_counter() - started


async def _measure(n: int, *, url: str, token: str, thread_ids: list[str], pid: int, redis_url: str) -> dict:
    from asgiref.sync import sync_to_async

    from creatives.models import StudioThread

    host, port = urlparse(url).hostname, urlparse(url).port
    loop = asyncio.get_running_loop()

    def request(thread_id: str) -> bytes:
        body = _message(thread_id, "Benchmark").encode()
        head = (
            f"POST /chatkit HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body

    for _ in range(5):
        await _healthz(host, port)
    # Warm-up: the first /chatkit request imports the ChatKit server (and the Agents SDK under it).
    reader, writer = await asyncio.open_connection(host, port)
    body = json.dumps({"type": "threads.list", "params": {"limit": 1}}).encode()
    writer.write(
        f"POST /chatkit HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    warm = await reader.read()
    writer.close()
    if not warm.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the warm-up request answered {warm[:300]!r}")
    rss_before, threads_before, cpu_before = _proc(pid)
    client_cpu_before = time.process_time()

    streams: list[_Stream] = []
    started = time.monotonic()
    for thread_id in thread_ids:
        stream = _Stream(request(thread_id))
        await loop.create_connection(lambda s=stream: s, host, port)
        streams.append(stream)

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
        ended = [s for s in streams if s.done.done()]
        if len(keys) == n or ended:
            break
        await asyncio.sleep(0.5)
    opened_s = time.monotonic() - started
    if len(keys) != n:
        problems = [s.outcome()[1] for s in streams if s.done.done()][:3]
        raise RuntimeError(f"only {len(keys)} of {n} streams opened in {opened_s:.0f} s; {problems}")
    await asyncio.sleep(1.0)  # let the last ones subscribe
    rss_open, threads_open, cpu_open = _proc(pid)

    healthz: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        while not stop.is_set():
            healthz.append(await _healthz(host, port))
            await asyncio.sleep(0.05)

    prober = asyncio.create_task(probe())
    await asyncio.sleep(1.0)  # /healthz with N streams open and quiet …
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as keys_file:
        json.dump(keys, keys_file)
    publisher = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.studio_ttft", "--publish", keys_file.name, redis_url
    )
    publish_rc = await publisher.wait()  # … and while their tokens flow
    Path(keys_file.name).unlink()
    await asyncio.wait_for(asyncio.gather(*(s.done for s in streams)), timeout=120)
    stop.set()
    await prober
    _rss_end, _threads_end, cpu_end = _proc(pid)
    if publish_rc != 0:
        raise RuntimeError(f"the publisher exited with {publish_rc}")
    overheads, failures = [], []
    for stream in streams:
        overhead, problem = stream.outcome()
        if overhead is None:
            failures.append(problem)
        else:
            overheads.append(overhead)
    if failures:
        raise RuntimeError(f"{len(failures)} failures, e.g. {failures[:3]}")
    return {
        "overheads": overheads,
        "healthz": healthz,
        "opened_s": opened_s,
        "kib_per_stream": (rss_open - rss_before) / n,
        "rss_open_mib": rss_open / 1024,
        "threads": (threads_before, threads_open),
        "server_cpu_open_s": cpu_open - cpu_before,
        "server_cpu_flow_s": cpu_end - cpu_open,
        "client_cpu_s": time.process_time() - client_cpu_before,
    }


def run(result: Result, *, ns=NS) -> None:
    from django.conf import settings
    from rest_framework.authtoken.models import Token

    from aicmo.testing.processes import UVICORN_READY
    from creatives.models import StudioThread

    brand = bench_brand()
    user = bench_user("bench-studio", brand)
    token = Token.objects.get_or_create(user=user)[0].key
    web = _uvicorn(max(ns))
    try:
        web.start(ready_text=UVICORN_READY, timeout_s=60)
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
                f"{figures['rss_open_mib']:.0f} MiB with {n} open); all {n} opened in {figures['opened_s']:.1f} s; "
                f"uvicorn threads {figures['threads'][0]} → {figures['threads'][1]} with {n} open; CPU seconds: "
                f"uvicorn {figures['server_cpu_open_s']:.1f} opening + {figures['server_cpu_flow_s']:.1f} while "
                f"the tokens flowed, client {figures['client_cpu_s']:.1f}"
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
    parser.add_argument("--publish", nargs=2, metavar=("KEYS_JSON", "REDIS_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.publish:
        return _publisher_main(*args.publish)

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
