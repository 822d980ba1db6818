"""Studio: time to first token through the app vs the provider's own.

Through the app: POST a message to /studio/<thread>/messages (gunicorn), then read the reply's Server-Sent Events
until the first event with text (`token`; `done` when the reply was whole before the view's first poll): the web
transaction, the Celery hop (Redis broker), the worker building the request and calling the chain, and the way
back (Redis Stream, or the database transport) to the SSE view.
The provider's own: the same fake OpenAI server streamed directly with the official SDK, until its first text
chunk. The two are interleaved, and the figure is the median of the paired differences (target ≤ 100 ms).

    .venv/bin/python -m bench.studio_ttft [--runs 20] [--transport redis database]

Runs on the benchmark database and Redis (`BENCH_DATABASE_URL`, `BENCH_REDIS_URL`; see bench/settings.py). The
database transport is measured with the same Redis broker, so the two rows differ only in how tokens travel.
"""

import argparse
import secrets
import signal
import sys
import time

from .common import (
    FAKE_KEY,
    LOG_DIR,
    Result,
    bench_brand,
    bench_user,
    celery_workers,
    child_env,
    fake_server,
    median,
    ms,
    percentile,
    provider_env,
)

RUNS = 20
WARMUP = 3
TARGET_MS = 100.0
TRANSPORTS = ("redis", "database")


def _session_cookie(user) -> str:
    """A logged-in session for `user`, as the login form would make it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _direct_ttft(sdk, text: str) -> float:
    """Seconds from the SDK call to its first text chunk (the stream is read to its end, so the connection is
    reused as the app's is)."""
    started = time.perf_counter()
    first = None
    stream = sdk.chat.completions.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": text}], stream=True
    )
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("the fake server streamed no text")
    return first


def _app_ttft(client, thread_id, text: str) -> float:
    """Seconds from POSTing the message to the first event of its reply that carries text: a `token`, or with
    the database transport a reply so quick that its first event is `done` (read to the end)."""
    started = time.perf_counter()
    posted = client.post(f"/studio/{thread_id}/messages", data={"text": text})
    if posted.status_code != 201:
        raise RuntimeError(f"POST answered {posted.status_code}: {posted.text[:300]}")
    first, event, end = None, "", None
    with client.stream("GET", posted.json()["reply"]["stream_url"]) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                if event in ("token", "done") and first is None:
                    first = time.perf_counter() - started
                if event in ("done", "failed"):
                    end = event
                    break
    if end != "done" or first is None:
        raise RuntimeError(f"the reply ended with {end!r} before any token")
    return first


def _measure(transport: str, *, fake_url: str, user, runs: int, warmup: int) -> tuple[list[float], list[float]]:
    import httpx2
    import openai
    from django.conf import settings

    from aicmo.testing.processes import gunicorn, wait_http
    from creatives.models import StudioThread

    redis_url = settings.TEST_REDIS_URL if transport == "redis" else ""
    env = provider_env(fake_url + "/v1", REDIS_URL=redis_url)
    with celery_workers(1, concurrency=2, env=env, tag=f"studio-{transport}"):
        web = gunicorn(
            LOG_DIR / f"gunicorn-studio-{transport}.log", workers=1, threads=8, asgi=False, **child_env(**env)
        )
        try:
            web.start(ready_text="Booting worker", timeout_s=60)
            wait_http(web.url + "/healthz", timeout_s=60)
            csrf = secrets.token_hex(16)  # 32 characters: Django accepts an unmasked token equal to the cookie
            client = httpx2.Client(
                base_url=web.url,
                timeout=60,
                cookies={"sessionid": _session_cookie(user), "csrftoken": csrf},
                headers={"X-CSRFToken": csrf, "X-Requested-With": "fetch"},
            )
            sdk = openai.OpenAI(api_key=FAKE_KEY, base_url=fake_url + "/v1", max_retries=0, timeout=60)
            thread = StudioThread.objects.create(user=user, brand=bench_brand(), title="Benchmark")
            direct, app = [], []
            for i in range(warmup + runs):
                text = f"Benchmark message {i}: an ad for cold brew"
                d, a = _direct_ttft(sdk, text), _app_ttft(client, thread.pk, text)
                if i >= warmup:
                    direct.append(d)
                    app.append(a)
            client.close()
            sdk.close()
        finally:
            web.stop(timeout_s=20)
    return direct, app


def run(result: Result, *, runs: int = RUNS, warmup: int = WARMUP, transports=TRANSPORTS) -> None:
    brand = bench_brand()
    user = bench_user("bench-studio", brand)
    with fake_server("studio", latency=0.0) as fake:
        for transport in transports:
            direct, app = _measure(transport, fake_url=fake.url, user=user, runs=runs, warmup=warmup)
            overhead = [a - d for a, d in zip(app, direct, strict=True)]
            value = ms(median(overhead))
            result.figure(
                f"studio.ttft_overhead.{transport}",
                f"Studio TTFT overhead ({transport} transport)",
                value,
                unit="ms",
                digits=1,
                target=f"≤ {TARGET_MS:.0f} ms",
                check=lambda v: v <= TARGET_MS,
            )
            result.note(
                f"{transport}: provider TTFT median {ms(median(direct)):.1f} ms; through the app median "
                f"{ms(median(app)):.1f} ms, p95 {ms(percentile(app, 95)):.1f} ms; overhead median "
                f"{value:.1f} ms, p95 {ms(percentile(overhead, 95)):.1f} ms ({runs} runs after {warmup} "
                "warm-up)"
            )


def _table(result: Result) -> str:
    rows = ["| Figure | Value | Target | Met |", "|---|---|---|---|"]
    for figure in result.figures:
        met = "—" if figure.met is None else ("yes" if figure.met else "**no**")
        rows.append(f"| {figure.label} | {figure.shown()} | {figure.target} | {met} |")
    return "\n".join(rows + [""] + [f"- {line}" for line in result.details])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studio_ttft", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--transport", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    args = parser.parse_args(argv)

    def stop(signum, frame):  # a SIGTERM unwinds like Ctrl-C, so every `finally` stops what it started
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    from .common import setup_django

    setup_django()
    result = Result(name="studio", title="Studio: time to first token", command=".venv/bin/python -m bench.studio_ttft")
    try:
        run(result, runs=args.runs, warmup=args.warmup, transports=args.transport)
    except KeyboardInterrupt:
        print("interrupted: processes stopped", file=sys.stderr)
        return 130
    print(_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
