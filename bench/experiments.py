"""Experiments behind the fixes proposed in docs/benchmarks.md: `python -m bench.experiments dispatch|docx|pages`.

Each one measures, in this process, the product as it is against the same code with a proposed change patched
in for the duration of the experiment (nothing in the product is changed). They are evidence for a proposal,
not benchmarks: run them by hand.

- dispatch: CPU per `POST /api/v1/campaigns/generate` as is, without the dispatch SELECT (slot ids known from
  the create), without also the `refresh_from_db`, with one message per run instead of one per slot; and the
  bare endpoint. The API benchmark's figure is the ratio bare ÷ generate of such costs (plus gunicorn's own).
- docx: a 500-deliverable DOCX export as is, with python-docx's style look-ups cached, and with `add_table`
  reading each row's cells once.
- pages: the run page and the approvals queue at 500 deliverables showing only the first 25 (as a paginated
  page would), against the page at 10.
"""

import argparse
import json
import time

from .common import median, setup_django


def _timed(call, *, repeats: int, warmup: int = 3, cpu: bool = False) -> float:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        started = time.process_time() if cpu else time.perf_counter()
        call()
        samples.append((time.process_time() if cpu else time.perf_counter()) - started)
    return median(samples)


def dispatch() -> None:
    from django.conf import settings
    from django.test import Client, override_settings
    from django.utils import timezone

    from deliverables import tasks
    from deliverables.models import Deliverable, Run
    from deliverables.services import generation

    from .api import BARE_PATH, BRIEF, GENERATE_PATH, _tokens
    from .common import flush_redis

    client = Client(HTTP_AUTHORIZATION=f"Token {_tokens()[0]}")
    original = {"dispatch": generation.run_dispatch, "refresh": Run.refresh_from_db,
                "bulk_create": Deliverable.objects.bulk_create}
    created: list = []

    def bulk_create(objs, *args, **kwargs):
        created[:] = original["bulk_create"](objs, *args, **kwargs)
        return created

    def dispatch_known_slots(*, run_pk):  # the slot ids come from the create: no SELECT
        for deliverable in created:
            tasks.generate_deliverable.apply_async(args=[str(deliverable.pk)], retry=True,
                                                   retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY)
        Run.objects.filter(pk=run_pk).update(dispatched_at=timezone.now())
        return True

    def dispatch_one_message(*, run_pk):  # one message per run (a stand-in task with no work), no DB write
        tasks.requeue_stuck_runs.apply_async(retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY)
        return True

    def generate():
        response = client.post(GENERATE_PATH, json.dumps(BRIEF), content_type="application/json")
        assert response.status_code == 202, response.content[:200]

    variants = {
        "as is": {},
        "no SELECT in run_dispatch": {"dispatch": dispatch_known_slots, "bulk_create": bulk_create},
        "... and no refresh_from_db": {"dispatch": dispatch_known_slots, "bulk_create": bulk_create,
                                       "refresh": lambda self, *a, **k: None},
        "one message per run, no refresh": {"dispatch": dispatch_one_message,
                                            "refresh": lambda self, *a, **k: None},
    }
    drf = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"generate": "1000000/min"}}
    try:
        with override_settings(REST_FRAMEWORK=drf):
            bare = _timed(lambda: client.get(BARE_PATH), repeats=300, cpu=True)
            print(f"bare endpoint: {bare * 1000:.2f} ms CPU per request")
            for name, patches in variants.items():
                patched = {**original, **patches}
                generation.run_dispatch = patched["dispatch"]
                Run.refresh_from_db = patched["refresh"]
                Deliverable.objects.bulk_create = patched["bulk_create"]
                cost = _timed(generate, repeats=150, cpu=True)
                print(f"generate, {name}: {cost * 1000:.2f} ms CPU per request; bare ÷ generate {bare / cost:.2f}")
    finally:
        generation.run_dispatch = original["dispatch"]
        Run.refresh_from_db = original["refresh"]
        Deliverable.objects.bulk_create = original["bulk_create"]
        flush_redis()


def docx() -> None:
    from docx.styles.styles import Styles

    from deliverables.services import docx_render, exports
    from deliverables.services.exports import run_export

    from .seed import seeded_run

    run, manager = seeded_run(500)

    def export():
        run_export(run=run, fmt="docx", approved_only=False, actor=manager)

    original = (Styles.default, Styles._get_style_id_from_name, docx_render.add_table)
    defaults: dict = {}
    ids: dict = {}

    def default(self, style_type):  # the document's default style, looked up once per document
        key = (self._element, style_type)
        if key not in defaults:
            defaults[key] = original[0](self, style_type)
        return defaults[key]

    def style_id_from_name(self, name, style_type):  # a style's id by name, once per document
        key = (self._element, name, style_type)
        if key not in ids:
            ids[key] = original[1](self, name, style_type)
        return ids[key]

    def add_table(document, header, rows):  # each row's cells read once, not once per cell
        table = document.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        cells = [row.cells for row in table.rows]
        for cell, text in zip(cells[0], header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row_cells, row in zip(cells[1:], rows, strict=True):
            for cell, text in zip(row_cells, row, strict=True):
                cell.text = text
        return table

    try:
        print(f"DOCX of 500, as is: {_timed(export, repeats=3, warmup=1):.2f} s")
        Styles.default, Styles._get_style_id_from_name = default, style_id_from_name
        print(f"... style look-ups cached per document: {_timed(export, repeats=3, warmup=1):.2f} s")
        docx_render.add_table = exports.add_table = add_table
        print(f"... and add_table reading each row's cells once: {_timed(export, repeats=3, warmup=1):.2f} s")
    finally:
        Styles.default, Styles._get_style_id_from_name = original[0], original[1]
        docx_render.add_table = exports.add_table = original[2]


def pages() -> None:
    from django.test import Client

    from deliverables import selectors, views

    from .seed import seeded_run

    page_size = 25
    clients, urls = {}, {}
    for size in (10, 500):
        run, manager = seeded_run(size)
        clients[size] = Client()
        clients[size].force_login(manager)
        urls[size] = {"run page": f"/runs/{run.run_id}/", "approvals queue": "/approvals/"}
    original = (views.run_slots, views.approval_queue_for)

    def first_slots(run):
        slots = list(run.deliverables.order_by("position")[:page_size])
        selectors.with_current_revision([d for d in slots if d.generation_status == "done"])
        return slots

    def first_in_queue(user, *, limit=None):
        return original[1](user, limit=page_size)

    try:
        for page in ("run page", "approvals queue"):
            small = _timed(lambda p=page: clients[10].get(urls[10][p]), repeats=15)
            large = _timed(lambda p=page: clients[500].get(urls[500][p]), repeats=15)
            views.run_slots, views.approval_queue_for = first_slots, first_in_queue
            paged = _timed(lambda p=page: clients[500].get(urls[500][p]), repeats=15)
            views.run_slots, views.approval_queue_for = original
            print(f"{page}: {small * 1000:.0f} ms at 10, {large * 1000:.0f} ms at 500 (ratio {large / small:.1f}); "
                  f"first {page_size} of 500: {paged * 1000:.0f} ms (ratio {paged / small:.1f})")
    finally:
        views.run_slots, views.approval_queue_for = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=["dispatch", "docx", "pages"])
    args = parser.parse_args()
    setup_django()
    {"dispatch": dispatch, "docx": docx, "pages": pages}[args.experiment]()


if __name__ == "__main__":
    main()
