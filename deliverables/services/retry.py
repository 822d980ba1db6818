"""Retrying the failed deliverables of a finished run: the slots go back to the queue, the run back to
RUNNING, and the last slot to finish settles the run again (SUCCESS, PARTIAL or FAILED)."""

import logging

from django.db import transaction
from django.utils import timezone

from aicmo.core.errors import Conflict

from ..events import run_retried_event
from ..models import Deliverable, Run
from .dispatch import run_dispatch
from .planning import require_generate_permission

logger = logging.getLogger(__name__)

RETRYABLE = (Run.Status.PARTIAL, Run.Status.FAILED)


def run_retry_failed(*, run: Run, actor) -> list[str]:
    """Reset the run's FAILED slots to pending and dispatch them once the transaction commits.
    Answers the ids of the slots sent back. Refused (Conflict) unless the run has ended with failures.

    The failures' lines in `warnings`, the run's error and its finish time are cleared, since the run is
    in flight again; each slot's delivery count restarts so a slot that gave up after repeated worker
    deaths gets a fair new chance. `dispatched_at` is cleared too, so with the broker down the sweeper
    dispatches the run within seconds (as a new run) instead of after AICMO_RUN_STUCK_AFTER_S.
    Refused (PermissionDenied) to an actor without the role to generate."""
    require_generate_permission(actor, run.brand)
    now = timezone.now()
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        failed = list(
            Deliverable.objects.filter(run_id=run.pk, generation_status=Deliverable.Generation.FAILED)
            .order_by("position")
            .only("pk", "kind", "error")
        )
        if locked.status not in RETRYABLE or not failed:
            raise Conflict(
                "Only a finished run with failed deliverables can be retried.",
                details={"status": locked.status, "failed": len(failed)},
            )
        stale = {f"{d.kind} failed: {d.error['message'] if d.error else 'unknown error'}" for d in failed}
        Run.objects.filter(pk=run.pk, status=locked.status).update(
            status=Run.Status.RUNNING,
            error=None,
            finished_at=None,
            dispatched_at=None,
            updated_at=now,
            warnings=[w for w in locked.warnings if w not in stale],
        )
        ids = [d.pk for d in failed]
        Deliverable.objects.filter(pk__in=ids, generation_status=Deliverable.Generation.FAILED).update(
            generation_status=Deliverable.Generation.PENDING, error=None, deliveries=0, updated_at=now
        )
        run_retried_event(run=run, actor=actor, from_status=locked.status, to_status=Run.Status.RUNNING, failed=failed)
        transaction.on_commit(lambda: run_dispatch(run_pk=run.pk))
    logger.info("failed deliverables sent back", extra={"run_id": str(locked.run_id), "count": len(ids)})
    run.refresh_from_db()
    return [str(pk) for pk in ids]
