"""Dispatch: one task per unfinished slot of a run, and the run warnings that say how that went."""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from aicmo.celery import app as celery_app

from ..models import Deliverable, Run

logger = logging.getLogger(__name__)

# By name: the task module imports these services, so they look the task up in the app's registry. The
# project's app, not `celery.current_app`: that is thread-local, and ASGI runs this on a request's own thread,
# where it is Celery's empty default app.
GENERATE_TASK = "deliverables.tasks.generate_deliverable"
QUEUE_UNAVAILABLE = "The queue was unavailable; the run will start as soon as it is back."


def run_dispatch(*, run_pk: int, slot_pks: Sequence | None = None, new: bool = False) -> bool:
    """Enqueue one task per unfinished slot. With the broker down the run stays PENDING with a warning,
    and the sweeper (`requeue_stuck_runs`) dispatches it when the broker is back.

    `slot_pks` and `new` are for a run whose transaction just committed (`run_create`): its slots are those
    pks, all unfinished (no SELECT), and it has no warning yet (nothing to remove). The messages share one
    producer (one broker connection from the pool, taken once)."""
    if slot_pks is None:
        slot_pks = Deliverable.objects.filter(
            run_id=run_pk,
            generation_status__in=[Deliverable.Generation.PENDING, Deliverable.Generation.RUNNING],
        ).values_list("pk", flat=True)
    pending = list(slot_pks)
    try:
        generate_deliverable = celery_app.tasks[GENERATE_TASK]
        with celery_app.producer_or_acquire() as producer:
            for pk in pending:
                generate_deliverable.apply_async(
                    args=[str(pk)],
                    producer=producer,
                    retry=True,
                    retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
                )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error("broker unavailable, run left pending", extra={"run_pk": run_pk, "error": str(error)[:200]})
        run_add_warning(run_pk=run_pk, warning=QUEUE_UNAVAILABLE)
        return False
    Run.objects.filter(pk=run_pk).update(dispatched_at=timezone.now())
    if not new:  # warnings describe the final state: queued now
        run_remove_warning(run_pk=run_pk, warning=QUEUE_UNAVAILABLE)
    return True


def run_remove_warning(*, run_pk: int, warning: str) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_pk)
        if warning in run.warnings:
            run.warnings = [w for w in run.warnings if w != warning]
            run.save(update_fields=["warnings", "updated_at"])


def run_add_warning(*, run_pk: int, warning: str) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_pk)
        if warning not in run.warnings:
            run.warnings = [*run.warnings, warning]
            run.save(update_fields=["warnings", "updated_at"])
