"""7. Exports: the branded PDF report and PPTX deck of a 100- and a 500-deliverable run, and the DOCX, the ZIP
working files, Markdown, JSON and CSV of the 500 (bench/seed.py: real drafts of eight kinds, an image on every
ad creative), through `deliverables.services.exports.run_export`, with the memory each export needs.

Times are medians of a few exports in this process, after one warm-up export (wall clock: on a shared machine
they include waiting for a core; the CPU time of the same exports, also a median, says what the export itself
costs). The ZIP holds the working files (Markdown, JSON, DOCX, CSV, ICS; not the PDF and deck, which stay their
own downloads), so it takes about their sum; what it adds of its own is the archive.
`python -m bench.profile_export FORMAT` profiles one export. Memory is measured in a fresh process
(bench/export_memory.py) that loads Django and the run and makes one export: the peak resident set the kernel
saw (VmHWM), i.e. the size a web process or worker needs for it, imports included.
"""

import time

from .common import Result, median

SIZES = (100, 500)
REPEATS = 3
TARGET_S = 10.0  # PDF and PPTX of 500 deliverables (issue 15)
TARGET_MIB = 300.0
DOCX_ZIP_TARGET_S = {"docx": 1.0, "zip": 1.0}  # of 500 deliverables (issue 16)
LARGE_ONLY = ("docx", "zip", "md", "json", "csv")  # exported at the largest size only


def _memory_in_fresh_process(size: int, fmt: str) -> tuple[float, float, float]:
    """(MiB before the export, peak MiB, CPU seconds of the export) of one export in a new process."""
    import subprocess
    import sys

    from .common import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "bench.export_memory", str(size), fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    start, peak, cpu = (float(value) for value in done.stdout.split()[-3:])
    return start, peak, cpu


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
        formats = ("pdf", "pptx") + (LARGE_ONLY if size == max(SIZES) else ())
        images = sum(1 for _ in run_row.deliverables.filter(assets__isnull=False).values("pk").distinct())
        for fmt in formats:

            def export(fmt=fmt, run_row=run_row, manager=manager):
                return run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)

            export()  # warm: imports, fonts, templates
            times, cpu_times, size_bytes = [], [], 0
            for _ in range(REPEATS):
                started, cpu_started = time.perf_counter(), time.process_time()
                size_bytes = len(export().content)
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
            start, peak, cpu = _memory_in_fresh_process(size, fmt)
            added = peak - start
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
            result.figure(
                f"exports.{fmt}.{size}.cpu_warm",
                f"Export {fmt.upper()} of {size}: CPU time (in this process, after a warm-up)",
                median(cpu_times),
                unit="s",
            )
            memory_target = fmt in ("pdf", "pptx") and size == max(SIZES)
            # the target is held against the whole process (Django, the run's rows and the export), the
            # stricter reading of "peak memory"; the note says how much of it the export itself added
            result.figure(
                f"exports.{fmt}.{size}.peak",
                f"Export {fmt.upper()} of {size}: peak RSS of the exporting process",
                peak,
                unit="MiB",
                digits=0,
                target=f"≤ {TARGET_MIB:g} MiB" if memory_target else "",
                check=(lambda v: v <= TARGET_MIB) if memory_target else None,
            )
            result.figure(
                f"exports.{fmt}.{size}.cpu",
                f"Export {fmt.upper()} of {size}: CPU time (in a fresh process)",
                cpu,
                unit="s",
            )
            result.note(
                f"{fmt} of {size}: {', '.join(f'{t:.2f}' for t in times)} s (median {took:.2f} s; CPU "
                f"{', '.join(f'{t:.2f}' for t in cpu_times)} s); file "
                f"{size_bytes / 2**20:.1f} MiB; in a fresh process: {cpu:.2f} s CPU, {start:.0f} MiB before the "
                f"export, peak {peak:.0f} MiB (+{added:.0f} MiB)"
            )
        result.note(
            f"{size} deliverables (campaign brief, messaging framework, calendar, LinkedIn / Instagram / X "
            f"posts, email, ad creative, in turn), {images} with an image; in-process, `approved_only=False`"
        )
