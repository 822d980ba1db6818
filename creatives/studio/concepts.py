"""Writes behind the studio's tools: saving an ad concept (a new asset, or a new version of the current one)
and making an image for it.

A saved concept is an `ad_copy` Deliverable of the thread's studio Run (module "studio", status SUCCESS, created
with the first concept), so it enters the same review workflow as every other deliverable. Its text lives in
immutable Revisions: revising never overwrites, it adds a version."""

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from aicmo.core.errors import ApplicationError, Conflict
from aicmo.llm.base import IMAGE_SIZES, ImageRequest
from aicmo.llm.chain import ProviderChain
from aicmo.llm.exceptions import AllProvidersFailed, ImageRetryable, UnsupportedOperation
from brands.budget import budget_check
from deliverables.events import deliverable_amended_event
from deliverables.kinds import render_ad
from deliverables.models import Asset, Deliverable, Module, ProviderCall, Revision, Run
from deliverables.platforms import MIN_IMAGE_PROMPTS
from deliverables.services import asset_create, revision_create, run_totals

from ..models import BRIEF_FIELDS, StudioThread
from .items import DEFAULT_TITLE

logger = logging.getLogger(__name__)

HEADLINE_MAX = 120
CALL_TO_ACTION_MAX = 60
MAX_IMAGE_PROMPTS = 6


@dataclass(frozen=True)
class AdConcept:
    headline: str
    primary_text: str
    call_to_action: str
    image_prompts: tuple[str, ...]
    product: str = ""
    style: str = ""
    tone: str = ""
    pitch: str = ""

    @property
    def brief(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in BRIEF_FIELDS if getattr(self, name)}

    @property
    def fields(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "primary_text": self.primary_text,
            "call_to_action": self.call_to_action,
            "image_prompts": list(self.image_prompts),
        }


def ad_concept_from(arguments: Mapping[str, Any]) -> AdConcept:
    """The `save_ad_asset` arguments as a concept, or an ApplicationError naming every bad field. The 45–80
    word range of the primary text is a quality warning, not a refusal."""
    errors: dict[str, list[str]] = {}

    def text(name: str, limit: int | None = None, required: bool = True) -> str:
        value = arguments.get(name)
        value = " ".join(value.split()) if isinstance(value, str) else ""
        if required and not value:
            errors[name] = ["This field is required and may not be blank."]
        elif limit and len(value) > limit:
            errors[name] = [f"Ensure this field has no more than {limit} characters."]
        return value

    raw_prompts = arguments.get("image_prompts")
    prompts = (
        tuple(" ".join(p.split()) for p in raw_prompts if isinstance(p, str) and p.strip())
        if isinstance(raw_prompts, list)
        else ()
    )
    if len(prompts) < MIN_IMAGE_PROMPTS:
        errors["image_prompts"] = [f"Give at least {MIN_IMAGE_PROMPTS} non-empty image prompts."]
    elif len(prompts) > MAX_IMAGE_PROMPTS:
        errors["image_prompts"] = [f"Give at most {MAX_IMAGE_PROMPTS} image prompts."]
    concept = AdConcept(
        headline=text("headline", HEADLINE_MAX),
        primary_text=" ".join(str(arguments.get("primary_text") or "").split()),
        call_to_action=text("call_to_action", CALL_TO_ACTION_MAX),
        image_prompts=prompts,
        product=text("product", 200, required=False),
        style=text("style", 200, required=False),
        tone=text("tone", 200, required=False),
        pitch=text("pitch", 500, required=False),
    )
    if not concept.primary_text:
        errors["primary_text"] = ["This field is required and may not be blank."]
    if errors:
        raise ApplicationError(
            "The concept is incomplete: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()), details=errors
        )
    return concept


@dataclass(frozen=True)
class SavedConcept:
    deliverable: Deliverable
    revision: Revision
    created: bool  # a new asset (True) or a new version of the current one
    image_count: int = 0


def ad_asset_save(
    *,
    thread: StudioThread,
    concept: AdConcept,
    revise: bool,
    provider: str,
    model: str,
    trace_id: str,
    tokens_used: int = 0,
    cost_usd: Decimal | None = None,
    warnings: Sequence[str] = (),
    images: Sequence[str] = (),
) -> SavedConcept:
    """Save `concept` in the thread: as a new version of the thread's current asset when `revise` (and there is
    one), else as a new asset. The thread's confirmed brief takes the concept's product, style, tone and pitch.
    A revision of an asset in review is refused (the reviewer must see the text they approve). Images made
    before any concept existed (the thread's pending images), and the brand's images named in `images` (their
    URLs or ids), are attached to the saved asset."""
    kit = thread.brand.kit()
    draft = render_ad(concept.fields)
    brief = {**thread.brief, **concept.brief}
    metadata = {
        **draft.structured,
        **brief,
        "provider": provider,
        "model": model,
        "tokens_used": tokens_used,
        "cost_usd": float(cost_usd) if cost_usd is not None else None,
        "warnings": sorted(set(warnings)),
        "studio_thread": str(thread.pk),
    }
    now = timezone.now()
    with transaction.atomic():
        locked = StudioThread.objects.select_for_update().get(pk=thread.pk)
        current = None
        if revise and locked.latest_deliverable_id:
            current = Deliverable.objects.select_for_update().filter(pk=locked.latest_deliverable_id).first()
        if current is not None:
            if current.status == Deliverable.Status.IN_REVIEW:
                raise Conflict(
                    "The current asset is in review: a manager must approve or reject it before it can "
                    "be changed. Ask for a new concept instead, or wait for the review."
                )
            version = current.version + 1
            Deliverable.objects.filter(pk=current.pk, version=current.version).update(
                version=version,
                status=Deliverable.Status.DRAFT,
                title=draft.title[:240],
                metadata={**current.metadata, **metadata},
                updated_at=now,
            )
            revision = revision_create(
                deliverable=current,
                version=version,
                title=draft.title,
                content_markdown=draft.content_markdown,
                structured=draft.structured,
                brand_kit=kit,
                provider=provider,
                model=model,
                note="Revised in the studio at the marketer's request",
            )
            deliverable_amended_event(
                deliverable=current,
                actor=locked.user,
                from_status=current.status,
                from_version=version - 1,
                note="Revised in the studio",
                studio_thread=str(locked.pk),
            )
            deliverable, created = current, False
        else:
            run = _studio_run(locked, kit, brief, trace_id, now)
            deliverable = Deliverable.objects.create(
                run=run,
                position=run.deliverables.count(),
                kind="ad_copy",
                title=draft.title[:240],
                metadata=metadata,
                status=Deliverable.Status.DRAFT,
                version=1,
                generation_status=Deliverable.Generation.DONE,
                deliveries=1,
            )
            revision = revision_create(
                deliverable=deliverable,
                version=1,
                title=draft.title,
                content_markdown=draft.content_markdown,
                structured=draft.structured,
                brand_kit=kit,
                provider=provider,
                model=model,
                note="New concept from the studio",
            )
            created = True
        attach = {*map(str, locked.pending_images), *(m[0] for i in images if (m := _UUID.findall(i)))}
        if attach:
            Asset.objects.filter(pk__in=attach, brand_id=locked.brand_id).update(deliverable=deliverable)
        locked.pending_images = []
        locked.brief = brief
        locked.latest_deliverable = deliverable
        if (not locked.title or locked.title == _DEFAULT_TITLE) and concept.product:
            locked.title = (concept.product[:1].upper() + concept.product[1:])[:120]
        locked.save(update_fields=["brief", "latest_deliverable", "title", "run", "pending_images", "updated_at"])
        studio_run_settle(locked.run_id, now)
    thread.brief, thread.latest_deliverable, thread.run_id, thread.title, thread.pending_images = (
        locked.brief,
        deliverable,
        locked.run_id,
        locked.title,
        [],
    )
    deliverable.refresh_from_db()
    return SavedConcept(
        deliverable=deliverable, revision=revision, created=created, image_count=deliverable.assets.count()
    )


_DEFAULT_TITLE = DEFAULT_TITLE
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _studio_run(thread: StudioThread, kit: dict, brief: dict, trace_id: str, now) -> Run:
    """The thread's studio Run, made with its first concept. Calls made before it existed (the questions that
    led to the concept) are attached to it, so its totals count the whole conversation."""
    if thread.run_id:
        run = Run.objects.get(pk=thread.run_id)
        run.input_snapshot = {**run.input_snapshot, "brief": brief}
        run.save(update_fields=["input_snapshot", "updated_at"])
        return run
    run = Run.objects.create(
        module=Module.STUDIO,
        brand_id=thread.brand_id,
        requested_by_id=thread.user_id,
        trace_id=trace_id,
        status=Run.Status.SUCCESS,
        dispatched_at=now,
        started_at=now,
        finished_at=now,
        input_snapshot={
            "module": Module.STUDIO,
            "brand": kit,
            "brief": brief,
            "studio_thread": str(thread.pk),
            "start_date": timezone.localdate().isoformat(),
        },
    )
    thread.run = run
    traces = [t for t in {*thread.trace_ids, trace_id} if t]
    ProviderCall.objects.filter(run__isnull=True, brand_id=thread.brand_id, trace_id__in=traces).update(run=run)
    return run


def studio_run_settle(run_pk: int | None, now) -> None:
    """Refresh the studio run's totals: the provider that made most of its concepts, and the tokens and cost of
    every call of the conversation."""
    if run_pk is None:
        return
    done = list(
        Deliverable.objects.filter(run_id=run_pk, generation_status=Deliverable.Generation.DONE).only("metadata")
    )
    Run.objects.filter(pk=run_pk).update(finished_at=now, updated_at=now, **run_totals(run_pk, done))


# --- images ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MadeImage:
    asset: Asset
    deliverable: Deliverable | None  # None: held as a pending image of the thread
    shape: str
    attempt: int  # the image task's attempt that made it (1: the first)


def ad_image_generate(
    *,
    thread: StudioThread,
    prompt: str,
    shape: str,
    chain: ProviderChain,
    trace_id: str,
    attempt: int = 1,
    retry_later: bool = False,
) -> MadeImage:
    """Make an image for the thread's current asset and attach it, or (no concept saved yet) hold it as a
    pending image the first saved concept takes, as the seed's thread metadata does. One attempt down the
    provider chain (the offline provider draws a PNG). A failure that may pass raises ImageRetryable when
    `retry_later` (the studio's image task then retries with Celery's backoff); otherwise, and for failures no
    retry cures, an ApplicationError the assistant relays. `attempt` (1, 2, …) is this attempt's number."""
    deliverable = (
        Deliverable.objects.filter(pk=thread.latest_deliverable_id).first() if thread.latest_deliverable_id else None
    )
    shape = (shape or "square").strip().lower()
    if shape not in IMAGE_SIZES:
        shape = next((name for name, size in IMAGE_SIZES.items() if size == shape), "")
    if not shape:
        raise ApplicationError("The shape must be square, portrait or landscape.", details={"shape": list(IMAGE_SIZES)})
    fallback = (deliverable.metadata.get("image_prompts") or [""])[0] if deliverable else ""
    prompt = " ".join((prompt or "").split()) or fallback
    if not prompt:
        raise ApplicationError("An image needs a prompt.", details={"prompt": ["This field may not be blank."]})
    request = ImageRequest(
        prompt=prompt[:4000], size=IMAGE_SIZES[shape], trace_id=trace_id, context={"brand_name": thread.brand.name}
    )
    budget_check(thread.brand_id)  # before each attempt: BudgetExceeded (a clear ApplicationError) ends the tool
    try:
        image = chain.generate_image(request)
    except AllProvidersFailed as error:
        if error.errors and all(isinstance(e, UnsupportedOperation) for e in error.errors):
            raise ApplicationError("No configured provider can make images.") from None
        if error.may_pass and retry_later:
            logger.info("image attempt failed, Celery retries it", extra={"attempt": attempt})
            raise ImageRetryable(error) from error
        if not error.may_pass:
            raise ApplicationError("The image could not be made: the providers refused this prompt.") from None
        tries = f"{attempt} attempts" if attempt > 1 else "one attempt"
        raise ApplicationError(f"The image could not be made after {tries}; try again in a moment.") from None
    now = timezone.now()
    with transaction.atomic():
        asset = asset_create(
            brand_id=thread.brand_id,
            deliverable=deliverable,
            content=image.png_bytes,
            prompt=prompt,
            size=image.size,
            provider=image.provider,
            model=image.model,
        )
        if deliverable is not None:
            Deliverable.objects.filter(pk=deliverable.pk).update(updated_at=now)
            studio_run_settle(deliverable.run_id, now)
        else:
            locked = StudioThread.objects.select_for_update().get(pk=thread.pk)
            locked.pending_images = [*locked.pending_images, str(asset.pk)]
            locked.save(update_fields=["pending_images", "updated_at"])
            thread.pending_images = locked.pending_images
    return MadeImage(asset=asset, deliverable=deliverable, shape=shape, attempt=attempt)
