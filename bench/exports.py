"""7. Exports: DOCX and ZIP of a 500-deliverable run (bench/seed.py: real drafts of eight kinds, an image on
every ad creative), through `deliverables.services.exports.run_export`, with the peak memory it allocates.

Times are medians of a few exports, without tracing; the peak is measured in a separate export under
tracemalloc (which slows Python down), as the peak of traced allocations above the starting point.
"""

import time
import tracemalloc

from .common import Result, median

SIZE = 500
REPEATS = 3
TARGET_S = 2.0
FORMATS = ("docx", "zip")


def run(result: Result) -> None:
    from deliverables.services.exports import run_export

    from .seed import seeded_run

    run_row, manager = seeded_run(SIZE)
    images = sum(1 for _ in run_row.deliverables.filter(assets__isnull=False).values("pk").distinct())
    for fmt in FORMATS:
        run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)  # warm: imports, templates
        times, size = [], 0
        for _ in range(REPEATS):
            started = time.perf_counter()
            exported = run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)
            times.append(time.perf_counter() - started)
            size = len(exported.content)
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        run_export(run=run_row, fmt=fmt, approved_only=False, actor=manager)
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
        took = median(times)
        result.figure(
            f"exports.{fmt}",
            f"Export {fmt.upper()} of a {SIZE}-deliverable run",
            took,
            unit="s",
            target=f"≤ {TARGET_S:g} s",
            check=lambda v: v <= TARGET_S,
        )
        result.figure(
            f"exports.{fmt}.peak", f"Export {fmt.upper()}: peak traced memory", peak / 2**20, unit="MiB", digits=1
        )
        result.note(
            f"{fmt}: {', '.join(f'{t:.2f}' for t in times)} s (median {took:.2f} s); file "
            f"{size / 2**20:.1f} MiB; peak traced allocations {peak / 2**20:.1f} MiB"
        )
    result.note(
        f"{SIZE} deliverables (campaign brief, messaging framework, calendar, LinkedIn / Instagram / X "
        f"posts, email, ad creative, in turn), {images} with an image; in-process, `approved_only=False`"
    )
