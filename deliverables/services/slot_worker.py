"""The slot worker (the body of the generation task): claim one slot, call the provider chain with the brief
and brand kit, save the first revision, then let the settling step look at the run. A slot that wants an image
stays RUNNING after its copy is saved: its image task (slot_image.py, retried by Celery) ends it.

Idempotent by construction: a slot is claimed with a conditional update, its first revision is written
only while it is still at version 0 (and a unique constraint backs that up), and the run is settled by a
conditional update from an in-flight status. A re-delivered task therefore does no duplicate work."""

import logging
from datetime import timedelta
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aicmo.core.trace import run_id_var, trace_id_var
from aicmo.llm.chain import CallRecord
from aicmo.llm.exceptions import AllProvidersFailed, ErrorType
from aicmo.llm.pricing import unknown_price_warning
from aicmo.llm.registry import get_chain
from brands.budget import BudgetExceeded, budget_check

from ..kinds import Draft, spec_for
from ..models import Deliverable, Run
from ..prompts import deliverable_request, slot_context
from .provider_calls import provider_call_save, provider_calls_interrupted
from .revisions import revision_create
from .settle import run_finalize
from .shortening import draft_fit
from .slot_image import IMAGE_FAILED, slot_image_dispatch, slot_image_end

logger = logging.getLogger(__name__)


def deliverable_generate(*, deliverable_id: str, redelivered: bool = True) -> None:
    """Fill one slot. A pending slot is claimed by any delivery. A running one is taken over only by a
    `redelivered` task (the broker hands back the task of a worker that died: the same message again) or once
    its claim is older than AICMO_RUN_STUCK_AFTER_S; an extra copy of the task (the sweeper re-dispatched a
    run whose message was still queued) leaves a slot another worker is on alone, so it neither calls the
    LLM twice nor uses up the slot's deliveries. Direct calls (tests, shell) count as redelivered."""
    now = timezone.now()
    claimable = Q(generation_status=Deliverable.Generation.PENDING) | Q(
        generation_status=Deliverable.Generation.RUNNING,
        updated_at__lt=now - timedelta(seconds=settings.AICMO_RUN_STUCK_AFTER_S),
    )
    if redelivered:
        claimable |= Q(generation_status=Deliverable.Generation.RUNNING)
    claimed = Deliverable.objects.filter(claimable, pk=deliverable_id).update(
        generation_status=Deliverable.Generation.RUNNING, deliveries=F("deliveries") + 1, updated_at=now
    )
    deliverable = Deliverable.objects.select_related("run").filter(pk=deliverable_id).first()
    if deliverable is None:
        logger.warning("task for a deliverable that no longer exists", extra={"deliverable_id": deliverable_id})
        return
    run = deliverable.run
    trace_token, run_token = trace_id_var.set(run.trace_id), run_id_var.set(str(run.run_id))
    try:
        if claimed:
            _generate_claimed(deliverable, run)
        run_finalize(run_pk=run.pk)
    finally:
        trace_id_var.reset(trace_token)
        run_id_var.reset(run_token)


def _generate_claimed(deliverable: Deliverable, run: Run) -> None:
    if deliverable.deliveries > 1:  # the previous delivery's worker is gone: so are the calls it had under way
        provider_calls_interrupted(deliverable_id=deliverable.pk)
    if deliverable.deliveries > settings.AICMO_MAX_TASK_DELIVERIES:
        if deliverable.version >= 1:  # the copy is saved: only its image is given up
            slot_image_end(deliverable_id=deliverable.pk, warning=IMAGE_FAILED, reason="deliveries exhausted")
            return
        _fail_slot(
            deliverable,
            ErrorType.INTERNAL_ERROR,
            f"Gave up after {deliverable.deliveries - 1} attempts: the worker stopped each time.",
        )
        return
    Run.objects.filter(pk=run.pk, status=Run.Status.PENDING).update(
        status=Run.Status.RUNNING, started_at=timezone.now()
    )
    if deliverable.version >= 1:  # the copy is saved; its image task was lost (the sweeper sent the slot again)
        logger.warning("slot's image task sent again", extra={"deliverable_id": str(deliverable.pk)})
        slot_image_dispatch(deliverable_id=deliverable.pk)
        return
    if deliverable.deliveries > 1:
        logger.warning(
            "deliverable picked up again",
            extra={"deliverable_id": str(deliverable.pk), "deliveries": deliverable.deliveries},
        )

    slot = deliverable.metadata.get("slot", {})
    context = slot_context(
        run.input_snapshot, kind=deliverable.kind, platform=deliverable.platform, variant=slot.get("variant")
    )
    chain = get_chain(recorder=_recorder(run, deliverable))
    try:
        budget_check(run.brand_id)  # before each call: a run that crosses the budget stops making calls
        completion = chain.complete(deliverable_request(kind=deliverable.kind, context=context, trace_id=run.trace_id))
        draft = spec_for(deliverable.kind).render(completion.data, context)
        warnings = list(completion.warnings)
        # Disclaimers in, and within the platform's hard limit before the first save (model passes, then the
        # boundary cutter): a first version never starts over its limit.
        fitted = draft_fit(kind=deliverable.kind, draft=draft, context=context, chain=chain, trace_id=run.trace_id)
        draft = fitted.draft
        calls = [completion, *fitted.completions]
        for shorter in fitted.completions:
            warnings += shorter.warnings  # e.g. a shortening pass came from the offline templates
        if fitted.model_calls or fitted.cut:
            deliverable.metadata = {**deliverable.metadata, "shortener": fitted.report}
        # Inside the try: an error while saving must end the slot now rather than leave it RUNNING for the sweeper.
        with_image = bool(slot.get("with_image") and draft.structured.get("image_prompts"))
        _save_first_revision(deliverable, run, draft, calls, warnings, with_image=with_image)
    except AllProvidersFailed as error:
        _fail_slot(deliverable, error.error_type, str(error))
    except BudgetExceeded as error:
        _fail_slot(deliverable, ErrorType.BUDGET_EXCEEDED, error.message)
    except SoftTimeLimitExceeded:
        _fail_slot(
            deliverable,
            ErrorType.TIMEOUT,
            f"Timed out: generating took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} seconds.",
        )
    except Exception as error:  # a bug must end this slot, not loop the task
        logger.exception("deliverable generation crashed", extra={"deliverable_id": str(deliverable.pk)})
        _fail_slot(deliverable, ErrorType.INTERNAL_ERROR, f"Internal error ({type(error).__name__}).")


def _save_first_revision(
    deliverable: Deliverable, run: Run, draft: Draft, calls, warnings: list[str], *, with_image: bool
) -> None:
    """Version 1 of the slot. Without an image the slot is DONE; with one it stays RUNNING and its image task
    (queued once this commits) ends it."""
    main = calls[0]
    tokens = sum(c.usage.total for c in calls)
    costs = [c.cost_usd for c in calls]
    cost = None if any(c is None for c in costs) else sum(costs, Decimal("0"))
    if cost is None:
        warnings.append(unknown_price_warning(main.provider, main.model))
    metadata = {
        **deliverable.metadata,
        **draft.structured,
        "provider": main.provider,
        "model": main.model,
        "tokens_used": tokens,
        "cost_usd": float(cost) if cost is not None else None,
        "warnings": sorted(set(warnings)),
    }
    with transaction.atomic():
        won = Deliverable.objects.filter(
            pk=deliverable.pk,
            generation_status=Deliverable.Generation.RUNNING,
            version=0,
        ).update(
            generation_status=Deliverable.Generation.RUNNING if with_image else Deliverable.Generation.DONE,
            version=1,
            title=draft.title[:240],
            hashtags=draft.hashtags,
            metadata=metadata,
            error=None,
            updated_at=timezone.now(),
        )
        if not won:  # another delivery of this task finished first
            return
        revision_create(
            deliverable=deliverable,
            version=1,
            title=draft.title,
            content_markdown=draft.content_markdown,
            hashtags=draft.hashtags,
            structured=draft.structured,
            brand_kit=run.input_snapshot["brand"],
            provider=main.provider,
            model=main.model,
            note="Generated",
        )
        if with_image:
            transaction.on_commit(lambda: slot_image_dispatch(deliverable_id=deliverable.pk))


def _fail_slot(deliverable: Deliverable, error_type: str, message: str) -> None:
    Deliverable.objects.filter(pk=deliverable.pk, generation_status=Deliverable.Generation.RUNNING).update(
        generation_status=Deliverable.Generation.FAILED,
        error={"type": error_type, "message": message[:1000]},
        updated_at=timezone.now(),
    )
    logger.warning("deliverable failed", extra={"deliverable_id": str(deliverable.pk), "error_type": error_type})


def _recorder(run: Run, deliverable: Deliverable):
    def record(call: CallRecord) -> None:
        provider_call_save(call, run_id=run.pk, deliverable_id=deliverable.pk, brand_id=run.brand_id)

    return record
