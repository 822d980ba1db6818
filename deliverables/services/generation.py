"""Generation: a brief becomes a Run with one Deliverable slot per planned piece; workers fill the slots in
parallel through the provider chain; the last one to finish settles the run.

Idempotent by construction: a slot is claimed with a conditional update, its first revision is written
only while it is still at version 0 (and a unique constraint backs that up), and the run is settled by a
conditional update from an in-flight status. A re-delivered task therefore does no duplicate work."""

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from aicmo.core.errors import ApplicationError, PermissionDenied
from aicmo.core.trace import run_id_var, trace_id_var
from aicmo.llm.base import IMAGE_SIZES, ImageRequest
from aicmo.llm.chain import CallRecord
from aicmo.llm.exceptions import AllProvidersFailed, ErrorType
from aicmo.llm.pricing import unknown_price_warning
from aicmo.llm.registry import get_chain
from campaigns.models import Brand, Campaign

from ..kinds import Draft, spec_for
from ..models import Asset, Deliverable, ProviderCall, Revision, Run
from ..prompts import deliverable_request, slot_context
from ..quality import evaluate
from .shortening import draft_fit

logger = logging.getLogger(__name__)

IN_FLIGHT = (Run.Status.PENDING, Run.Status.RUNNING)
GENERATE_PERMISSION = "deliverables.add_run"  # Marketers and Managers hold it (deliverables/roles.py)


@dataclass(frozen=True)
class Slot:
    """One planned deliverable."""

    kind: str
    platform: str | None = None
    variant: int | None = None
    with_image: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- creating and dispatching runs ----------------------------------------------------------------------


def run_create(
    *,
    module: str,
    brand: Brand,
    requested_by,
    brief: Mapping[str, Any],
    slots: Iterable[Slot],
    trace_id: str,
    campaign: Campaign | None = None,
) -> Run:
    """Save the run and its slots in one transaction; enqueue the work once that transaction commits."""
    require_generate_permission(requested_by)
    slots = list(slots)
    if not slots:  # a run without slots would never be settled (and a SUCCESS needs a deliverable)
        raise nothing_to_generate()
    with transaction.atomic():
        run = Run.objects.create(
            module=module,
            brand=brand,
            campaign=campaign,
            requested_by=requested_by,
            trace_id=trace_id,
            input_snapshot={
                "module": module,
                "brand": brand.kit(),
                "brief": dict(brief),
                "start_date": timezone.localdate().isoformat(),
            },
        )
        Deliverable.objects.bulk_create(
            [
                Deliverable(
                    run=run,
                    position=i,
                    kind=slot.kind,
                    platform=slot.platform,
                    title=spec_for(slot.kind).label,
                    metadata={"slot": {"variant": slot.variant, "with_image": slot.with_image, **slot.extra}},
                )
                for i, slot in enumerate(slots)
            ]
        )
        transaction.on_commit(lambda: run_dispatch(run_pk=run.pk))
    run.refresh_from_db()
    return run


def require_generate_permission(user) -> None:
    """Refuse (PermissionDenied, 403) a user without the role to generate: a brand member in no group."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.has_perm(GENERATE_PERMISSION):
        raise PermissionDenied("Generating needs the Marketers or Managers role.")


def nothing_to_generate() -> ApplicationError:
    """The refusal of an empty plan (e.g. only `social_posts` asked for, and no social platform)."""
    return ApplicationError(
        "Nothing to generate: none of the requested deliverables applies to this brief.",
        details={
            "deliverables": [
                "None of these deliverables applies to this brief (a post needs its platform in `platforms`)."
            ]
        },
    )


def run_dispatch(*, run_pk: int) -> bool:
    """Enqueue one task per unfinished slot. With the broker down the run stays PENDING with a warning,
    and the sweeper (`requeue_stuck_runs`) dispatches it when the broker is back."""
    from kombu.exceptions import OperationalError

    from ..tasks import generate_deliverable

    pending = list(
        Deliverable.objects.filter(
            run_id=run_pk,
            generation_status__in=[Deliverable.Generation.PENDING, Deliverable.Generation.RUNNING],
        ).values_list("pk", flat=True)
    )
    try:
        for pk in pending:
            generate_deliverable.apply_async(
                args=[str(pk)], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
            )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error("broker unavailable, run left pending", extra={"run_pk": run_pk, "error": str(error)[:200]})
        _add_run_warning(run_pk, "The queue was unavailable; the run will start as soon as it is back.")
        return False
    Run.objects.filter(pk=run_pk).update(dispatched_at=timezone.now())
    return True


def _add_run_warning(run_pk: int, warning: str) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_pk)
        if warning not in run.warnings:
            run.warnings = [*run.warnings, warning]
            run.save(update_fields=["warnings", "updated_at"])


# --- generating one slot (the task body) --------------------------------------------------------------------


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
    if deliverable.deliveries > settings.AICMO_MAX_TASK_DELIVERIES:
        _fail_slot(
            deliverable,
            ErrorType.INTERNAL_ERROR,
            f"Gave up after {deliverable.deliveries - 1} attempts: the worker stopped each time.",
        )
        return
    Run.objects.filter(pk=run.pk, status=Run.Status.PENDING).update(
        status=Run.Status.RUNNING, started_at=timezone.now()
    )
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
        completion = chain.complete(deliverable_request(kind=deliverable.kind, context=context, trace_id=run.trace_id))
        draft = spec_for(deliverable.kind).render(completion.data, context)
        warnings = list(completion.warnings)
        # Disclaimers in, and within the platform's hard limit before the first save (model passes, then the
        # boundary cutter): a first version never starts over its limit.
        fitted = draft_fit(kind=deliverable.kind, draft=draft, context=context, chain=chain, trace_id=run.trace_id)
        draft = fitted.draft
        calls = [completion, *fitted.completions]
        if fitted.model_calls or fitted.cut:
            deliverable.metadata = {**deliverable.metadata, "shortener": fitted.report}
        # Inside the try: a time limit hit during a slow image call, or an error while saving, must end the
        # slot now rather than leave it RUNNING for the sweeper. An image the providers cannot make only warns.
        image = None
        if slot.get("with_image") and draft.structured.get("image_prompts"):
            image, image_warning = _generate_image(chain, run, draft.structured["image_prompts"][0])
            if image_warning:
                warnings.append(image_warning)
        _save_first_revision(deliverable, run, draft, calls, warnings, image)
    except AllProvidersFailed as error:
        _fail_slot(deliverable, error.error_type, str(error))
    except SoftTimeLimitExceeded:
        _fail_slot(
            deliverable,
            ErrorType.TIMEOUT,
            f"Timed out: generating took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} seconds.",
        )
    except Exception as error:  # a bug must end this slot, not loop the task
        logger.exception("deliverable generation crashed", extra={"deliverable_id": str(deliverable.pk)})
        _fail_slot(deliverable, ErrorType.INTERNAL_ERROR, f"Internal error ({type(error).__name__}).")


def _generate_image(chain, run: Run, prompt: str):
    try:
        return chain.generate_image(
            ImageRequest(
                prompt=prompt,
                size=IMAGE_SIZES["square"],
                trace_id=run.trace_id,
                context={"brand_name": run.input_snapshot["brand"]["name"]},
            )
        ), None
    except AllProvidersFailed as error:
        logger.warning("image generation failed", extra={"error": str(error)[:200]})
        return None, "The image could not be generated; the copy is saved without it."


def _save_first_revision(deliverable: Deliverable, run: Run, draft: Draft, calls, warnings: list[str], image) -> None:
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
    quality = evaluate(
        kind=deliverable.kind,
        title=draft.title,
        content_markdown=draft.content_markdown,
        hashtags=draft.hashtags,
        structured=draft.structured,
        brand=run.input_snapshot["brand"],
    )
    with transaction.atomic():
        won = Deliverable.objects.filter(
            pk=deliverable.pk,
            generation_status=Deliverable.Generation.RUNNING,
            version=0,
        ).update(
            generation_status=Deliverable.Generation.DONE,
            version=1,
            title=draft.title[:240],
            hashtags=draft.hashtags,
            metadata=metadata,
            error=None,
            updated_at=timezone.now(),
        )
        if not won:  # another delivery of this task finished first
            return
        Revision.objects.create(
            deliverable=deliverable,
            version=1,
            title=draft.title[:240],
            content_markdown=draft.content_markdown,
            hashtags=draft.hashtags,
            structured=draft.structured,
            provider=main.provider,
            model=main.model,
            note="Generated",
            quality=quality,
        )
        if image is not None:
            asset = Asset(
                brand_id=run.brand_id,
                deliverable=deliverable,
                prompt=draft.structured["image_prompts"][0],
                size=image.size,
                provider=image.provider,
                model=image.model,
            )
            asset.file.save(f"{asset.id}.png", ContentFile(image.png_bytes), save=False)
            asset.save()


def _fail_slot(deliverable: Deliverable, error_type: str, message: str) -> None:
    Deliverable.objects.filter(pk=deliverable.pk, generation_status=Deliverable.Generation.RUNNING).update(
        generation_status=Deliverable.Generation.FAILED,
        error={"type": error_type, "message": message[:1000]},
        updated_at=timezone.now(),
    )
    logger.warning("deliverable failed", extra={"deliverable_id": str(deliverable.pk), "error_type": error_type})


def provider_call_save(
    call: CallRecord, *, run_id: int | None, deliverable_id, brand_id: int, trace_id: str = ""
) -> ProviderCall:
    """One ProviderCall row for what the chain reported about one attempt."""
    return ProviderCall.objects.create(
        run_id=run_id,
        deliverable_id=deliverable_id,
        brand_id=brand_id,
        provider=call.provider,
        model=call.model,
        use_case=call.use_case,
        latency_ms=call.latency_ms,
        tokens_in=call.tokens_in,
        tokens_out=call.tokens_out,
        cost_usd=call.cost_usd,
        outcome=call.outcome,
        error_type=call.error_type,
        error_message=call.error_message,
        trace_id=call.trace_id or trace_id,
    )


def _recorder(run: Run, deliverable: Deliverable):
    def record(call: CallRecord) -> None:
        provider_call_save(call, run_id=run.pk, deliverable_id=deliverable.pk, brand_id=run.brand_id)

    return record


# --- settling the run -----------------------------------------------------------------------------------------


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
