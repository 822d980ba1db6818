"""Profile one export of the seeded N-deliverable run: `python -m bench.profile_export docx [--size 500]`.

Seeds the run as `python -m bench exports` does (bench/seed.py), makes one warm-up export, then times a few
(wall clock and this process's CPU time, with the number of SQL queries) and profiles one more under
pyinstrument, printing its tree (`--html FILE` to save it too). The export goes through
`deliverables.services.exports.run_export`, the path the API and the pages take.
"""

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", help="md, json, docx, csv, pdf, pptx, ics or zip")
    parser.add_argument("--size", type=int, default=500, help="deliverables in the run")
    parser.add_argument("--repeats", type=int, default=3, help="timed exports before the profiled one")
    parser.add_argument("--html", help="also write the profile as HTML here")
    parser.add_argument("--no-profile", action="store_true", help="only time it")
    args = parser.parse_args()

    from .common import setup_django

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deliverables.services.exports import run_export

    from .seed import seeded_run

    run_row, manager = seeded_run(args.size)

    def export() -> int:
        return len(run_export(run=run_row, fmt=args.format, approved_only=False, actor=manager).content)

    export()  # warm: imports, fonts, connections
    walls, cpus = [], []
    with CaptureQueriesContext(connection) as queries:
        size = export()
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        export()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(
        f"{args.format} of {args.size}: wall {', '.join(f'{w:.3f}' for w in walls)} s; "
        f"CPU {', '.join(f'{c:.3f}' for c in cpus)} s; {len(queries.captured_queries)} queries; "
        f"{size / 2**20:.2f} MiB"
    )
    if args.no_profile:
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    export()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())


if __name__ == "__main__":
    main()
