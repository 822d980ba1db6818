"""Experiments behind the fixes proposed in docs/benchmarks.md: `python -m bench.experiments dispatch`.

Each one measures, in this process, the product as it is against the same code with a proposed change patched
in for the duration of the experiment (nothing in the product is changed). They are evidence for a proposal,
not benchmarks: run them by hand.

- dispatch: CPU per `POST /api/v1/campaigns/generate` as is, without the dispatch SELECT (slot ids known from
  the create), without also the `refresh_from_db`, with one message per run instead of one per slot; and the
  bare endpoint. The API benchmark's figure is the ratio bare ÷ generate of such costs (plus gunicorn's own).

The docx and pages experiments were removed once their fixes landed (see "Fixed" in bench/findings.md).
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
    from deliverables.services import planning

    from .api import BARE_PATH, BRIEF, GENERATE_PATH, _tokens
    from .common import flush_redis

    client = Client(HTTP_AUTHORIZATION=f"Token {_tokens()[0]}")
    original = {
        "dispatch": planning.run_dispatch,
        "refresh": Run.refresh_from_db,
        "bulk_create": Deliverable.objects.bulk_create,
    }
    created: list = []

    def bulk_create(objs, *args, **kwargs):
        created[:] = original["bulk_create"](objs, *args, **kwargs)
        return created

    def dispatch_known_slots(*, run_pk):  # the slot ids come from the create: no SELECT
        for deliverable in created:
            tasks.generate_deliverable.apply_async(
                args=[str(deliverable.pk)], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
            )
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
        "... and no refresh_from_db": {
            "dispatch": dispatch_known_slots,
            "bulk_create": bulk_create,
            "refresh": lambda self, *a, **k: None,
        },
        "one message per run, no refresh": {"dispatch": dispatch_one_message, "refresh": lambda self, *a, **k: None},
    }
    drf = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"generate": "1000000/min"}}
    try:
        with override_settings(ROOT_URLCONF="bench.urls", REST_FRAMEWORK=drf):
            bare = _timed(lambda: client.get(BARE_PATH), repeats=300, cpu=True)
            print(f"bare endpoint: {bare * 1000:.2f} ms CPU per request")
            for name, patches in variants.items():
                patched = {**original, **patches}
                planning.run_dispatch = patched["dispatch"]
                Run.refresh_from_db = patched["refresh"]
                Deliverable.objects.bulk_create = patched["bulk_create"]
                cost = _timed(generate, repeats=150, cpu=True)
                print(f"generate, {name}: {cost * 1000:.2f} ms CPU per request; bare ÷ generate {bare / cost:.2f}")
    finally:
        planning.run_dispatch = original["dispatch"]
        Run.refresh_from_db = original["refresh"]
        Deliverable.objects.bulk_create = original["bulk_create"]
        flush_redis()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=["dispatch"])
    parser.parse_args()
    setup_django()
    dispatch()


if __name__ == "__main__":
    main()
