"""`python -m bench.export_memory SIZE FORMAT`: one export of the seeded SIZE-deliverable run in a fresh process,
printing `start_mib peak_mib cpu_s` (the peak resident set once Django and the run's rows are loaded, the peak
after the export, and the export's CPU time). Run by bench/exports.py, so the peak is that of a
process that has done nothing else: what a web process or worker needs for this export."""

import sys
import time


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM its peak), in MiB. Not
    getrusage's ru_maxrss: Linux keeps that across execve, so a child would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    size, fmt = int(sys.argv[1]), sys.argv[2]
    from .common import setup_django

    setup_django()
    from deliverables.services.exports import run_export

    from .seed import seeded_run

    run_row, manager = seeded_run(size)
    list(run_row.deliverables.values_list("pk", flat=True))  # connection and rows warm, as in a serving process
    start = _status_mib("VmHWM")
    cpu = time.process_time()
    run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)
    cpu = time.process_time() - cpu
    peak = _status_mib("VmHWM")
    print(f"{start:.1f} {peak:.1f} {cpu:.3f}")


if __name__ == "__main__":
    main()
