"""Profile what a worker does for one deliverable slot, outside the LLM call: `python -m bench.profile_task`.

Creates runs through the services (their dispatch goes to Redis database 9, which nobody consumes here, and is
flushed), then runs the task body (`deliverable_generate`) in this process against the fake server at latency
0, under pyinstrument. Prints the mean time per slot and the profile (`--html FILE` to save it).
"""

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=120, help="slots to generate (runs of 12)")
    parser.add_argument("--html", help="also write the profile as HTML here")
    parser.add_argument("--no-profile", action="store_true", help="only time it")
    args = parser.parse_args()

    from .common import FAKE_KEY, bench_brand, bench_user, fake_server, flush_redis, setup_django

    setup_django()
    from django.test import override_settings

    from deliverables.models import Deliverable
    from deliverables.services import deliverable_generate

    from .runs import create_run

    brand = bench_brand()
    user = bench_user("bench-marketer", brand)
    with (
        fake_server("profile", latency=0.0) as fake,
        override_settings(
            OPENAI_API_KEY=FAKE_KEY,
            OPENAI_BASE_URL=fake.url + "/v1",
            AICMO_LLM_PRIMARY_PROVIDER="openai",
            AICMO_LLM_FALLBACK_PROVIDERS=[],
        ),
    ):
        runs = [create_run(brand=brand, user=user, slots=12, label="Profile") for _ in range(max(1, args.slots // 12))]
        flush_redis()
        slots = [str(pk) for pk in Deliverable.objects.filter(run__in=runs).values_list("pk", flat=True)]
        deliverable_generate(deliverable_id=slots.pop())  # warm: imports, SDK client, connections
        profiler = None
        if not args.no_profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        started = time.perf_counter()
        cpu_started = time.process_time()
        for pk in slots:
            deliverable_generate(deliverable_id=pk)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler is not None:
            profiler.stop()
    print(
        f"{len(slots)} slots: {wall / len(slots) * 1000:.1f} ms wall, {cpu / len(slots) * 1000:.1f} ms CPU "
        "per slot (this process; the fake server runs in its own)"
    )
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            with open(args.html, "w") as out:
                out.write(profiler.output_html())


if __name__ == "__main__":
    main()
