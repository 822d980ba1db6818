"""`python -m bench.export_memory SIZE FORMAT`: one export of the seeded SIZE-deliverable run in a fresh process,
printing `start_mib peak_mib cpu_s` (resident set after Django and the run's rows are loaded, the process's peak
resident set after the export, and the export's CPU time). Run by bench/exports.py, so the peak is that of a
process that has done nothing else: what a web process or worker needs for this export."""

import resource
import sys
import time


def main() -> None:
    size, fmt = int(sys.argv[1]), sys.argv[2]
    from .common import setup_django

    setup_django()
    from deliverables.services.exports import run_export

    from .seed import seeded_run

    run_row, manager = seeded_run(size)
    list(run_row.deliverables.values_list("pk", flat=True))  # connection and rows warm, as in a serving process
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{start:.1f} {peak:.1f} {cpu:.3f}")


if __name__ == "__main__":
    main()
