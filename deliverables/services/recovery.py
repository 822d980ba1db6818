"""The sweeper: finds runs that lost their way (broker down at request time, workers gone) and moves them on."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from aicmo.llm.exceptions import ErrorType

from ..models import Deliverable, Run
from .dispatch import run_dispatch
from .provider_calls import provider_calls_interrupted
from .settle import run_finalize
from .slot_image import IMAGE_FAILED, slot_image_end

logger = logging.getLogger(__name__)

NEVER_DISPATCHED_GRACE = timedelta(seconds=10)  # on_commit dispatch normally happens within milliseconds
IN_FLIGHT_SLOTS = (Deliverable.Generation.PENDING, Deliverable.Generation.RUNNING)


def runs_requeue_stuck(*, now=None) -> dict[str, int]:
    """Dispatch runs that were never enqueued (the broker was down), and move on runs with no progress for
    AICMO_RUN_STUCK_AFTER_S: slots that already had AICMO_MAX_TASK_DELIVERIES deliveries fail with a clear
    error, runs whose slots have all ended are settled, the others are re-dispatched (a re-dispatched task
    takes over a slot whose claim went stale; see `deliverable_generate`). Returns counts of what it did:
    `dispatched`, `redispatched`, `gave_up` (slots failed), `settled`."""
    now = now or timezone.now()
    stuck_after = settings.AICMO_RUN_STUCK_AFTER_S
    stuck_before = now - timedelta(seconds=stuck_after)
    in_flight = Run.objects.filter(status__in=[Run.Status.PENDING, Run.Status.RUNNING])
    counts = {"dispatched": 0, "redispatched": 0, "gave_up": 0, "settled": 0}
    # A call still "started" after the hard task time limit belonged to a worker that is gone.
    provider_calls_interrupted(started_before=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT))

    for run in in_flight.filter(dispatched_at__isnull=True, created_at__lt=now - NEVER_DISPATCHED_GRACE):
        if run_dispatch(run_pk=run.pk):
            counts["dispatched"] += 1
            logger.info("pending run dispatched", extra={"run_id": str(run.run_id), "trace_id": run.trace_id})

    stale = (
        in_flight.filter(dispatched_at__lt=stuck_before)
        .annotate(last_progress=Max("deliverables__updated_at"))
        .filter(Q(last_progress__lt=stuck_before) | Q(last_progress__isnull=True))
    )
    for run in stale:
        counts["gave_up"] += _give_up_exhausted_slots(run, now=now, stuck_before=stuck_before)
        if run_finalize(run_pk=run.pk):
            counts["settled"] += 1
            continue
        # Slots left RUNNING by a dead worker go back to the queue; their delivery count keeps growing.
        if run_dispatch(run_pk=run.pk):
            counts["redispatched"] += 1
            logger.warning("stuck run re-dispatched", extra={"run_id": str(run.run_id), "trace_id": run.trace_id})
    return counts


def _give_up_exhausted_slots(run: Run, *, now, stuck_before) -> int:
    """Fail the run's unfinished slots that were delivered AICMO_MAX_TASK_DELIVERIES times and made no progress
    since: another delivery would only repeat what already stopped that often. Conditional updates, so a
    worker that finishes the slot at this very moment wins."""
    limit = settings.AICMO_MAX_TASK_DELIVERIES
    failed = 0
    exhausted = Deliverable.objects.filter(
        run=run, generation_status__in=IN_FLIGHT_SLOTS, deliveries__gte=limit, updated_at__lt=stuck_before
    )
    for slot in exhausted.only("pk", "deliveries", "kind", "version"):
        if slot.version >= 1:  # its copy is saved: only the image is given up, the slot ends DONE
            failed += slot_image_end(deliverable_id=slot.pk, warning=IMAGE_FAILED, reason="deliveries exhausted")
            continue
        message = (
            f"Gave up after {slot.deliveries} attempts: no worker finished this deliverable within "
            f"{settings.AICMO_RUN_STUCK_AFTER_S} seconds."
        )
        failed += Deliverable.objects.filter(
            pk=slot.pk,
            generation_status__in=IN_FLIGHT_SLOTS,
            deliveries=slot.deliveries,
            updated_at__lt=stuck_before,
        ).update(
            generation_status=Deliverable.Generation.FAILED,
            updated_at=now,
            error={"type": ErrorType.INTERNAL_ERROR, "message": message},
        )
        logger.warning(
            "deliverable given up",
            extra={
                "run_id": str(run.run_id),
                "trace_id": run.trace_id,
                "deliverable_id": str(slot.pk),
                "deliveries": slot.deliveries,
            },
        )
    return failed
