"""Settling: when the last slot of a run ends, the run becomes SUCCESS, PARTIAL or FAILED, once."""

import logging
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from aicmo.llm.exceptions import ErrorType

from ..models import Deliverable, ProviderCall, Run
from ..waiting import run_settled_publish
from .webhooks import webhook_emit

logger = logging.getLogger(__name__)

IN_FLIGHT = (Run.Status.PENDING, Run.Status.RUNNING)


def run_finalize(*, run_pk: int) -> bool:
    """When every slot has ended, settle the run as SUCCESS, PARTIAL or FAILED (once: a conditional update)."""
    counts = Deliverable.objects.filter(run_id=run_pk).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(generation_status=Deliverable.Generation.DONE)),
        failed=Count("pk", filter=Q(generation_status=Deliverable.Generation.FAILED)),
    )
    if counts["done"] + counts["failed"] < counts["total"]:
        return False
    slots = list(
        Deliverable.objects.filter(run_id=run_pk).only("kind", "title", "metadata", "error", "generation_status")
    )
    done = [d for d in slots if d.generation_status == Deliverable.Generation.DONE]
    failed = [d for d in slots if d.generation_status == Deliverable.Generation.FAILED]
    status = Run.Status.SUCCESS if not failed else Run.Status.PARTIAL if done else Run.Status.FAILED
    totals = run_totals(run_pk, done)
    run = Run.objects.get(pk=run_pk)
    warnings = list(run.warnings)
    for d in done:
        warnings += [f"{d.kind}: {w}" for w in d.metadata.get("warnings", []) if f"{d.kind}: {w}" not in warnings]
    warnings += [f"{d.kind} failed: {d.error['message'] if d.error else 'unknown error'}" for d in failed]
    error = None
    if status == Run.Status.FAILED:
        types = {d.error["type"] for d in failed if d.error}
        error = {
            "type": types.pop() if len(types) == 1 else ErrorType.PROVIDER_ERROR,
            "message": failed[0].error["message"] if failed and failed[0].error else "Every deliverable failed.",
            "trace_id": run.trace_id,
        }
    settled = Run.objects.filter(pk=run_pk, status__in=IN_FLIGHT).update(
        status=status, warnings=warnings, error=error, finished_at=timezone.now(), updated_at=timezone.now(), **totals
    )
    if settled:
        logger.info("run settled", extra={"run_id": str(run.run_id), "status": status})
        # PARTIAL made deliverables: it is a run that succeeded, with warnings (its status says which).
        webhook_emit(
            brand_id=run.brand_id,
            event="run.failed" if status == Run.Status.FAILED else "run.succeeded",
            data={
                "run_id": str(run.run_id),
                "module": run.module,
                "status": status,
                "done": len(done),
                "failed": len(failed),
                "warnings": warnings,
                "error": error,
            },
        )
        # Wakes the API requests waiting on this run (deliverables/waiting.py), once the settlement is visible.
        transaction.on_commit(lambda: run_settled_publish(run.run_id))
    return bool(settled)


def run_totals(run_pk: int, done: list[Deliverable]) -> dict[str, Any]:
    """Provider and model that made most deliverables (none made: those of the run's last call actually made,
    so a run whose calls all failed still names its provider; "none" if every provider was skipped); tokens
    and cost of every successful call."""
    providers = Counter((d.metadata.get("provider"), d.metadata.get("model")) for d in done)
    if providers:
        (provider, model), _ = providers.most_common(1)[0]
    else:
        last_call = (
            ProviderCall.objects.filter(run_id=run_pk)
            .exclude(outcome=ProviderCall.Outcome.SKIPPED)
            .order_by("-created_at", "-pk")
            .values_list("provider", "model")
            .first()
        )
        provider, model = last_call or ("none", "")
    sums = ProviderCall.objects.filter(run_id=run_pk, outcome=ProviderCall.Outcome.OK).aggregate(
        tokens=Sum(F("tokens_in") + F("tokens_out")),
        cost=Sum("cost_usd"),
        unpriced=Count("pk", filter=Q(cost_usd__isnull=True)),
    )
    cost = None if sums["unpriced"] else (sums["cost"] or Decimal("0"))
    return {"provider": provider or "none", "model": model or "", "tokens_used": sums["tokens"] or 0, "cost_usd": cost}
