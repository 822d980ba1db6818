"""6. Pages: render time of the run page (`/runs/<run_id>/`) and the approvals queue (`/approvals/`) at 500
deliverables ÷ at 10, in-process with Django's test client (rows seeded directly: bench/seed.py).

Each page is requested as a logged-in manager of a brand whose one run holds N finished deliverables, all in
review (so the approvals queue lists N). The sizes alternate request by request; the figure is the ratio of
the medians. The SQL statements of one request are counted too (a constant count means no N+1).
"""

import time

from .common import Result, median, ms

SIZES = (10, 500)
REPEATS = 15
WARMUP = 3
TARGET = 2.0


def run(result: Result) -> None:
    from django.db import connection
    from django.test import Client

    from .seed import seeded_run

    clients, urls = {}, {}
    for size in SIZES:
        run_row, manager = seeded_run(size)
        client = Client()
        client.force_login(manager)
        clients[size] = client
        urls[size] = {"run page": f"/runs/{run_row.run_id}/", "approvals queue": "/approvals/"}
    pages = list(urls[SIZES[0]])

    def get(size: int, page: str) -> float:
        started = time.perf_counter()
        response = clients[size].get(urls[size][page])
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{page} at {size} answered {response.status_code}")
        return took

    statements: dict[tuple[int, str], int] = {}
    sizes_kb: dict[tuple[int, str], float] = {}
    for size in SIZES:
        for page in pages:
            for _ in range(WARMUP):
                get(size, page)
            counter = _StatementCounter()
            with connection.execute_wrapper(counter):
                response = clients[size].get(urls[size][page])
            statements[size, page] = counter.count
            sizes_kb[size, page] = len(response.content) / 1024

    times: dict[tuple[int, str], list[float]] = {(s, p): [] for s in SIZES for p in pages}
    for _ in range(REPEATS):
        for page in pages:
            for size in SIZES:
                times[size, page].append(get(size, page))

    small, large = SIZES
    for page in pages:
        ratio = median(times[large, page]) / median(times[small, page])
        result.figure(
            f"pages.{page.split()[0]}",
            f"Pages: {page}, render time at {large} ÷ at {small} deliverables",
            ratio,
            unit="×",
            target=f"≤ {TARGET:g}",
            check=lambda r: r <= TARGET,
        )
        result.note(
            f"{page}: median {ms(median(times[small, page])):.1f} ms at {small}, "
            f"{ms(median(times[large, page])):.1f} ms at {large} ({REPEATS} requests each, alternating); "
            f"SQL statements {statements[small, page]} at {small}, {statements[large, page]} at {large}; "
            f"HTML {sizes_kb[small, page]:.0f} KB at {small}, {sizes_kb[large, page]:.0f} KB at {large}"
        )
    result.note(
        "in-process (Django test client, DEBUG off, PostgreSQL aicmo_bench); a manager of the brand, "
        f"{WARMUP} warm-up requests per page and size"
    )


class _StatementCounter:
    """A database execute wrapper that counts statements."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
