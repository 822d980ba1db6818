"""6. Pages: render time of the run page (`/runs/<run_id>/`) and the approvals queue (`/approvals/`) at 500
deliverables ÷ at 10, in-process with Django's test client (rows seeded directly: bench/seed.py); and what the
whole 500 cost on one page.

Each page is requested as a logged-in manager of a brand whose one run holds N finished deliverables, all in
review (so the approvals queue lists N). Both pages are paginated by the product (`RUN_PAGE_SIZE`,
`QUEUE_PAGE_SIZE` in deliverables/views.py, 25): the first page shows 10 cards at 10 deliverables and 25 at
500, and the ratio figures say so. The product has no "show all" view; the full-view figures raise the page
size to 500 for their requests only (the same view, template and queries, every card on one page), so they
are what a page of all 500 would cost, not a page a user can open. The variants alternate request by request;
the figures are ratios of medians. The SQL statements of one request are counted too (a constant count means
no N+1).
"""

import contextlib
import time
from unittest import mock

from .common import Result, median, ms

SIZES = (10, 500)
REPEATS = 15
FULL_REPEATS = 5  # a page of all 500 takes 10-15× a paged one: fewer samples of it keep the benchmark short
WARMUP = 3
TARGET = 2.0


def run(result: Result) -> None:
    from django.db import connection
    from django.test import Client

    from deliverables import views

    from .seed import seeded_run

    small, large = SIZES
    per_page = {"run page": views.RUN_PAGE_SIZE, "approvals queue": views.QUEUE_PAGE_SIZE}
    setting = {"run page": "RUN_PAGE_SIZE", "approvals queue": "QUEUE_PAGE_SIZE"}
    clients, urls = {}, {}
    for size in SIZES:
        run_row, manager = seeded_run(size)
        client = Client()
        client.force_login(manager)
        clients[size] = client
        urls[size] = {"run page": f"/runs/{run_row.run_id}/", "approvals queue": "/approvals/"}
    pages = list(per_page)
    # (deliverables, page, every card on one page?)
    variants = [(size, page, False) for page in pages for size in SIZES] + [(large, page, True) for page in pages]

    def page_size(page: str, full: bool):
        return mock.patch.object(views, setting[page], large) if full else contextlib.nullcontext()

    def get(size: int, page: str, full: bool):
        with page_size(page, full):
            started = time.perf_counter()
            response = clients[size].get(urls[size][page])
            took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{page} at {size} answered {response.status_code}")
        return took, response

    statements: dict[tuple, int] = {}
    sizes_kb: dict[tuple, float] = {}
    for variant in variants:
        for _ in range(1 if variant[2] else WARMUP):
            get(*variant)
        counter = _StatementCounter()
        with connection.execute_wrapper(counter):
            _, response = get(*variant)
        statements[variant] = counter.count
        sizes_kb[variant] = len(response.content) / 1024

    times: dict[tuple, list[float]] = {variant: [] for variant in variants}
    for repeat in range(REPEATS):
        for variant in variants:
            if repeat < FULL_REPEATS or not variant[2]:
                times[variant].append(get(*variant)[0])

    for page in pages:
        shown = min(large, per_page[page])
        paged, full = median(times[large, page, False]), median(times[large, page, True])
        result.figure(
            f"pages.{page.split()[0]}",
            f"Pages: {page}, first page ({per_page[page]} per page: {min(small, per_page[page])} shown at {small}, "
            f"{shown} at {large}), render time at {large} ÷ at {small} deliverables",
            paged / median(times[small, page, False]),
            unit="×",
            target=f"≤ {TARGET:g}",
            check=lambda r: r <= TARGET,
        )
        result.figure(
            f"pages.{page.split()[0]}.all",
            f"Pages: {page} with all {large} on one page (page size raised by the bench; the product pages at "
            f"{per_page[page]}), render time",
            ms(full),
            unit="ms",
            digits=0,
            target="(informative)",
        )
        result.note(
            f"{page}: median {ms(median(times[small, page, False])):.1f} ms at {small}, {ms(paged):.1f} ms at "
            f"{large} (first page, {shown} shown), {ms(full):.0f} ms with all {large} on one page "
            f"({ms(full) / large:.2f} ms per item; {full / paged:.1f}× the paged view) — {REPEATS} requests "
            f"each ({FULL_REPEATS} of the full page), alternating; SQL statements "
            f"{statements[small, page, False]} at {small}, "
            f"{statements[large, page, False]} at {large}, {statements[large, page, True]} with all on one page; "
            f"HTML {sizes_kb[small, page, False]:.0f} KB, {sizes_kb[large, page, False]:.0f} KB, "
            f"{sizes_kb[large, page, True]:.0f} KB"
        )
    result.note(
        "in-process (Django test client, DEBUG off, PostgreSQL, the bench database); a manager of the brand, "
        f"{WARMUP} warm-up requests per paged variant, 1 per full page"
    )


class _StatementCounter:
    """A database execute wrapper that counts statements."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)
