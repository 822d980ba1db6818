"""7. Exports: the branded PDF report and PPTX deck of a 100- and a 500-deliverable run, and the DOCX and ZIP pack
of the 500 (bench/seed.py: real drafts of eight kinds, an image on every ad creative), through
`deliverables.services.exports.run_export`, with the memory each export needs.

Times are medians of a few exports in this process, after one warm-up export. Memory is measured in a forked
child that makes one export and exits: its peak resident set (`ru_maxrss`, what the kernel saw) less the
resident set it started with, i.e. what the export added on top of a process that has already loaded Django
and the run's rows, and the whole peak as the process size a worker needs.
"""

import os
import resource
import time

from .common import Result, median

SIZES = (100, 500)
REPEATS = 3
TARGET_S = 10.0  # PDF and PPTX of 500 deliverables (issue 15)
TARGET_MIB = 300.0
DOCX_ZIP_TARGET_S = {"docx": 2.0, "zip": 15.0}  # the ZIP holds the PDF, deck and DOCX too


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_in_child(export) -> tuple[float, float]:
    """(MiB added by one export, peak MiB of the process) measured in a fork that makes it."""
    from django.db import connections

    connections.close_all()  # the child opens its own connection; the parent's is not shared
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: export once, report the resident set it started from, exit at once
        os.close(read)
        try:
            start = _rss_mib()
            export()
            os.write(write, f"{start}".encode())
        finally:
            os._exit(0)
    os.close(write)
    start = float(os.read(read, 64).decode() or "nan")
    os.close(read)
    _, _, usage = os.wait4(pid, 0)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    return peak - start, peak


def run(result: Result) -> None:
    from django.conf import settings

    from deliverables.services.exports import run_export

    # the copy each export keeps in storage is part of the path measured; the benchmark removes its copies
    # (those of the forked children too) afterwards
    runs: list = []
    try:
        _run(result, run_export, runs)
    finally:
        from django.core.files.storage import default_storage

        for run_row in runs:
            folder = f"exports/{run_row.brand_id}/{run_row.run_id}"
            try:
                names = default_storage.listdir(folder)[1]
            except FileNotFoundError:
                continue
            for name in names:
                default_storage.delete(f"{folder}/{name}")
    result.note(f"AICMO_KEEP_EXPORTS={'1' if settings.AICMO_KEEP_EXPORTS else '0'} (each export also saved to storage)")


def _run(result: Result, run_export, runs: list) -> None:
    from .seed import seeded_run

    for size in SIZES:
        run_row, manager = seeded_run(size)
        runs.append(run_row)
        formats = ("pdf", "pptx") + (("docx", "zip") if size == max(SIZES) else ())
        images = sum(1 for _ in run_row.deliverables.filter(assets__isnull=False).values("pk").distinct())
        for fmt in formats:

            def export(fmt=fmt, run_row=run_row, manager=manager):
                return run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)

            export()  # warm: imports, fonts, templates
            times, size_bytes = [], 0
            for _ in range(REPEATS):
                started = time.perf_counter()
                size_bytes = len(export().content)
                times.append(time.perf_counter() - started)
            added, peak = _peak_in_child(export)
            took = median(times)
            target = TARGET_S if fmt in ("pdf", "pptx") and size == max(SIZES) else DOCX_ZIP_TARGET_S.get(fmt)
            result.figure(
                f"exports.{fmt}.{size}",
                f"Export {fmt.upper()} of a {size}-deliverable run",
                took,
                unit="s",
                target=f"≤ {target:g} s" if target else "",
                check=(lambda v, t=target: v <= t) if target else None,
            )
            memory_target = fmt in ("pdf", "pptx") and size == max(SIZES)
            result.figure(
                f"exports.{fmt}.{size}.peak",
                f"Export {fmt.upper()} of {size}: memory the export adds (peak RSS above the start)",
                added,
                unit="MiB",
                digits=1,
                target=f"≤ {TARGET_MIB:g} MiB" if memory_target else "",
                check=(lambda v: v <= TARGET_MIB) if memory_target else None,
            )
            result.note(
                f"{fmt} of {size}: {', '.join(f'{t:.2f}' for t in times)} s (median {took:.2f} s); file "
                f"{size_bytes / 2**20:.1f} MiB; the export added {added:.1f} MiB to a process of "
                f"{peak - added:.0f} MiB (peak {peak:.0f} MiB)"
            )
        result.note(
            f"{size} deliverables (campaign brief, messaging framework, calendar, LinkedIn / Instagram / X "
            f"posts, email, ad creative, in turn), {images} with an image; in-process, `approved_only=False`"
        )
    result.note(
        f"peak RSS of this benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
