"""2. Worker throughput: LLM calls completed per second at provider latency 0.5 s, for 1 and 2 worker processes
of the same concurrency, as a fraction of the ideal (total concurrency ÷ latency).

The queue is filled with runs of 12 slots (created through the services faster than the workers drain them),
and the rate is read from the completion times of the ProviderCall rows in the steady part: the first and the
last `total concurrency` completions (ramp-up and drain) are left out. CPU used per task is read from /proc:
the worker process groups, PostgreSQL's processes, the fake server, and the whole machine (shared with other
work).
"""

import time
from dataclasses import dataclass

from .common import (
    Result,
    celery_workers,
    fake_server,
    flush_redis,
    group_cpu_s,
    machine_cpu,
    named_cpu_s,
    provider_env,
)
from .runs import check_runs, create_run, wait_terminal

LATENCY_S = 0.5
CONCURRENCY = 12
WORKER_COUNTS = (1, 2)
LOAD_S = 15  # seconds of work queued at the ideal rate
RUN_SLOTS = 12
TARGET = 0.8


@dataclass
class Phase:
    rate: float
    window: tuple[float, int]
    tasks: int
    enqueued_s: float
    drained_s: float | None
    cpu_ms: dict[str, float]
    busy: float
    problems: list[str]


def run(result: Result) -> None:
    from .common import bench_brand, bench_user, delete_runs

    brand = bench_brand()
    user = bench_user("bench-marketer", brand)
    delete_runs(brand)
    flush_redis()
    with fake_server("throughput", latency=LATENCY_S) as fake:
        env = provider_env(fake.url + "/v1")
        for workers in WORKER_COUNTS:
            phase = _phase(brand, user, fake, env, workers, tag=f"tp{workers}")
            ideal = workers * CONCURRENCY / LATENCY_S
            fraction = phase.rate / ideal
            label = f"Throughput, {workers} worker(s) × concurrency {CONCURRENCY}: fraction of ideal"
            result.figure(f"throughput.{workers}", label, fraction, target=f"≥ {TARGET}", check=lambda f: f >= TARGET)
            per_task = workers * CONCURRENCY / phase.rate - LATENCY_S
            cpu = ", ".join(f"{name} {value:.1f}" for name, value in phase.cpu_ms.items())
            result.note(
                f"{workers} worker(s) × {CONCURRENCY}: {phase.rate:.1f} calls/s vs ideal "
                f"{ideal:.0f} = {fraction:.2f} (steady window: {phase.window[1]} calls in "
                f"{phase.window[0]:.1f} s; {phase.tasks} tasks queued in {phase.enqueued_s:.1f} s); "
                f"time per task outside the LLM call {per_task * 1000:.0f} ms; CPU-ms per task: {cpu}; "
                f"machine {phase.busy:.0%} busy"
            )
            if phase.problems:
                result.error = "; ".join(phase.problems[:5])
    result.note(
        f"provider latency {LATENCY_S} s; prefork workers; runs of {RUN_SLOTS} slots, one LLM call each; "
        "'machine' CPU includes everything running on the shared machine, other engineers' work too"
    )


def _phase(brand, user, fake, env: dict, workers: int, *, tag: str) -> Phase:
    total = workers * CONCURRENCY
    with celery_workers(workers, concurrency=CONCURRENCY, env=env, tag=tag) as procs:
        warm = [create_run(brand=brand, user=user, slots=RUN_SLOTS, label="Warm-up").pk for _ in range(workers * 2)]
        wait_terminal(warm, timeout_s=120)
        runs_needed = max(1, round(total / LATENCY_S * LOAD_S / RUN_SLOTS))
        groups = [p.proc.pid for p in procs]

        def sample():
            return (
                group_cpu_s(groups),
                named_cpu_s(["postgres"]),
                group_cpu_s([fake.proc.pid]),
                time.process_time(),
                machine_cpu(),
            )

        before = sample()
        started = time.perf_counter()
        pks = [create_run(brand=brand, user=user, slots=RUN_SLOTS, label="Throughput").pk for _ in range(runs_needed)]
        enqueued_s = time.perf_counter() - started
        drained = wait_terminal(pks, timeout_s=LOAD_S * 6 + 60, interval_s=0.2)
        after = sample()
        problems = check_runs(pks)
    tasks = runs_needed * RUN_SLOTS
    names = ("workers", "PostgreSQL (all its processes)", "fake server", "this driver (creating runs, polling)")
    cpu_ms = {name: (after[i] - before[i]) / tasks * 1000 for i, name in enumerate(names)}
    busy_s, all_s = after[4][0] - before[4][0], after[4][1] - before[4][1]
    cpu_ms["whole machine"] = busy_s / tasks * 1000
    rate, window = _steady_rate(pks, skip=total)
    return Phase(rate, window, tasks, enqueued_s, drained, cpu_ms, busy_s / all_s, problems)


def _steady_rate(run_pks: list[int], *, skip: int) -> tuple[float, tuple[float, int]]:
    from deliverables.models import ProviderCall

    times = sorted(
        ProviderCall.objects.filter(run_id__in=run_pks, outcome=ProviderCall.Outcome.OK).values_list(
            "created_at", flat=True
        )
    )
    steady = times[skip : len(times) - skip] if len(times) > 3 * skip else times
    span = (steady[-1] - steady[0]).total_seconds()
    return (len(steady) - 1) / span, (span, len(steady))
