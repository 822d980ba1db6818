"""The sweeper: finds runs that lost their way (broker down at request time, workers gone) and moves them on."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from ..models import Deliverable, Run
from .generation import run_dispatch, run_finalize

logger = logging.getLogger(__name__)

NEVER_DISPATCHED_GRACE = timedelta(seconds=10)  # on_commit dispatch normally happens within milliseconds


def runs_requeue_stuck(*, now=None) -> dict[str, int]:
    """Dispatch runs that were never enqueued, re-dispatch runs with no progress for
    AICMO_RUN_STUCK_AFTER_S (each task counts its deliveries and gives up after AICMO_MAX_TASK_DELIVERIES),
    and settle runs whose slots all ended. Returns counts of what it did."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.AICMO_RUN_STUCK_AFTER_S)
    in_flight = Run.objects.filter(status__in=[Run.Status.PENDING, Run.Status.RUNNING])
    counts = {"dispatched": 0, "redispatched": 0, "settled": 0}

    for run in in_flight.filter(dispatched_at__isnull=True, created_at__lt=now - NEVER_DISPATCHED_GRACE):
        if run_dispatch(run_pk=run.pk):
            counts["dispatched"] += 1

    stale = (in_flight.filter(dispatched_at__lt=stuck_before)
             .annotate(last_progress=Max("deliverables__updated_at"))
             .filter(Q(last_progress__lt=stuck_before) | Q(last_progress__isnull=True)))
    for run in stale:
        if run_finalize(run_pk=run.pk):
            counts["settled"] += 1
            continue
        # Slots left RUNNING by a dead worker go back to the queue; their delivery count keeps growing.
        Deliverable.objects.filter(run=run, generation_status=Deliverable.Generation.RUNNING).update(
            updated_at=now)
        if run_dispatch(run_pk=run.pk):
            counts["redispatched"] += 1
            logger.warning("stuck run re-dispatched", extra={"run_id": str(run.run_id)})
    return counts
