"""1. Fan-out: a run's wall time ÷ one call's latency, for 3, 6, 12 and 24 deliverables, provider latency 1.0 s.

Real Celery worker processes (prefork, concurrency 24: every slot of the largest run has a pool child) on
PostgreSQL + Redis, the OpenAI provider pointed at the fake server. A run is created through the services
(campaign_generate / creatives_generate) and timed from the service call until the database says the run is
terminal. The physical limit is 1.0 (every slot in parallel); serial generation would be N. The serial baseline
is measured too, with one worker of concurrency 1 (for 3, 6 and 12). A run of 24 is larger than the forms and
the API offer (12 at most: 6 ad variants and a post on each of the 6 platforms); it is made through the service
with 18 variants, to show how the ratio grows with the run.
"""

from .common import Result, celery_workers, direct_call_latency, fake_server, flush_redis, median, provider_env
from .runs import check_runs, create_run, wait_terminal

LATENCY_S = 1.0
SIZES = (3, 6, 12, 24)
SERIAL_SIZES = (3, 6, 12)  # 24 serial calls would add half a minute to learn what the others show
REPEATS = 5
CONCURRENCY = 24
TARGET = 1.2  # at 6 deliverables


def run(result: Result) -> None:
    from .common import bench_brand, bench_user, delete_runs

    brand = bench_brand()
    user = bench_user("bench-marketer", brand)
    delete_runs(brand)
    flush_redis()
    with fake_server("fanout", latency=LATENCY_S) as fake:
        base_url = fake.url + "/v1"
        env = provider_env(base_url)
        one_call = direct_call_latency(base_url)
        result.note(f"one call (plain SDK call to the fake server, median of 5): {one_call:.3f} s")

        with celery_workers(1, concurrency=CONCURRENCY, env=env, tag="fanout"):
            pks: list[int] = []
            # The first run on a freshly started worker: every pool child's first task (imports, DB connection,
            # SDK client). It also warms them for the figures that follow.
            cold = _timed_run(brand, user, CONCURRENCY, pks, timeout_s=180)
            warm = create_run(brand=brand, user=user, slots=CONCURRENCY, label="Warm-up")
            wait_terminal([warm.pk], timeout_s=120)
            walls: dict[int, list[float]] = {n: [] for n in SIZES}
            for _ in range(REPEATS):
                for n in SIZES:
                    wall = _timed_run(brand, user, n, pks)
                    walls[n].append(wall)
            problems = check_runs(pks)

        with celery_workers(1, concurrency=1, env=env, tag="serial"):
            warm = create_run(brand=brand, user=user, slots=1, label="Warm-up")
            wait_terminal([warm.pk], timeout_s=60)
            serial = {n: _timed_run(brand, user, n, pks) for n in SERIAL_SIZES}
            problems += check_runs(pks)

    for n in SIZES:
        ratio = median(walls[n]) / one_call
        samples = ", ".join(f"{w / one_call:.2f}" for w in walls[n])
        result.figure(
            f"fanout.{n}",
            f"Fan-out, {n} deliverables: run wall time ÷ one call",
            ratio,
            unit="×",
            target=f"≤ {TARGET}" if n == 6 else "",
            check=(lambda r: r <= TARGET) if n == 6 else None,
        )
        serial_text = (
            f"; serial baseline (1 worker, concurrency 1) {serial[n] / one_call:.2f}, ideal serial {n}"
            if n in serial
            else ""
        )
        result.note(f"{n} deliverables: ratio samples {samples} (median {ratio:.2f}){serial_text}")
    result.figure(
        "fanout.cold",
        f"Fan-out, {CONCURRENCY} deliverables, first run on a freshly started worker",
        cold / one_call,
        unit="×",
        target="(informative)",
    )
    result.note(
        f"first run of {CONCURRENCY} on a freshly started worker: {cold / one_call:.2f} (every pool child's first task)"
    )
    for n in SERIAL_SIZES:
        result.figure(
            f"fanout.serial.{n}",
            f"Serial baseline, {n} deliverables (concurrency 1)",
            serial[n] / one_call,
            unit="×",
            target=f"= {n} (reference)",
        )
    if problems:
        result.error = "; ".join(problems[:5])
    result.note(
        f"provider latency {LATENCY_S} s, 1 worker × concurrency {CONCURRENCY} (prefork), "
        f"{REPEATS} runs of each size, interleaved; every run SUCCESS with one OpenAI call per slot: "
        f"{'yes' if not problems else 'NO'}"
    )


def _timed_run(brand, user, n: int, pks: list[int], *, timeout_s: float = 0) -> float:
    import time

    started = time.perf_counter()
    created = create_run(brand=brand, user=user, slots=n, label=f"Fan-out {n}")
    waited = wait_terminal([created.pk], timeout_s=timeout_s or 60 + 2 * n)
    if waited is None:
        raise RuntimeError(f"a run of {n} did not finish in time")
    pks.append(created.pk)
    return time.perf_counter() - started
