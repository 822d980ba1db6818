"""A slot's image, made by a task of its own once the slot's copy is saved.

The slot worker saves the copy's first revision (version 1) and leaves the slot RUNNING; this task makes the image
with the provider chain (each attempt tries the providers in order) and then ends the slot: DONE with the image
attached, or DONE without it and a warning. Only then can the run settle, so a run reported finished (a 200 to a
waiting generate call, `run.succeeded`) already carries its images, and `progress` counts the slot as done only
when its image has ended too.

Transient failures (`AllProvidersFailed.may_pass`) raise `ImageRetryable`, which the task names in Celery's
`autoretry_for`: Celery publishes it again with a backoff countdown, so no worker slot sleeps meanwhile. On the
last attempt, and for failures that no retry cures (no provider can make images, the budget is spent, terminal
4xx), the slot ends without its image. Every path ends in one conditional update from RUNNING, so a redelivered
or duplicate task does nothing twice."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from aicmo.celery import app as celery_app
from aicmo.core.trace import run_id_var, trace_id_var
from aicmo.llm.base import IMAGE_SIZES, ImageRequest
from aicmo.llm.chain import CallRecord
from aicmo.llm.exceptions import AllProvidersFailed, ImageRetryable
from aicmo.llm.registry import get_chain
from brands.budget import BudgetExceeded, budget_check

from ..models import Deliverable
from ..prompts import image_prompt
from .assets import asset_create
from .provider_calls import provider_call_save
from .settle import run_finalize

logger = logging.getLogger(__name__)

IMAGE_TASK = "deliverables.tasks.generate_slot_image"  # by name, as dispatch.py does (the task imports us)
IMAGE_FAILED = "The image could not be generated; the copy is saved without it."
IMAGE_BUDGET_SPENT = "The image was not generated: the brand's monthly budget is spent."


def awaiting_image():
    """The slots whose copy is saved and whose image task has not ended."""
    return Deliverable.objects.filter(generation_status=Deliverable.Generation.RUNNING, version__gte=1)


def slot_image_dispatch(*, deliverable_id) -> None:
    """Queue the slot's image task (after the copy's commit). With the broker down the slot ends without its
    image rather than keeping its run open."""
    try:
        celery_app.tasks[IMAGE_TASK].apply_async(
            args=[str(deliverable_id)], retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error("broker unavailable, image not queued", extra={"deliverable_id": str(deliverable_id)})
        slot_image_end(deliverable_id=deliverable_id, warning=IMAGE_FAILED, reason=type(error).__name__)


def slot_image_generate(*, deliverable_id: str, last_attempt: bool) -> None:
    """One attempt at the slot's image. Raises ImageRetryable for a failure that may pass, unless `last_attempt`
    (then, as for every other failure, the slot ends without its image)."""
    slot = awaiting_image().select_related("run").filter(pk=deliverable_id).first()
    if slot is None:  # ended already (a redelivered task), or not waiting for an image
        return
    run = slot.run
    prompt = (slot.metadata.get("image_prompts") or [""])[0]
    trace_token, run_token = trace_id_var.set(run.trace_id), run_id_var.set(str(run.run_id))
    try:
        if not prompt:
            slot_image_end(deliverable_id=slot.pk, warning=IMAGE_FAILED, reason="no image prompt")
            return
        try:
            budget_check(run.brand_id)  # before each attempt, as before each text call
        except BudgetExceeded:
            slot_image_end(deliverable_id=slot.pk, warning=IMAGE_BUDGET_SPENT, reason="budget")
            return
        chain = get_chain(recorder=_recorder(slot))
        try:
            image = chain.generate_image(
                ImageRequest(
                    prompt=image_prompt(prompt, run.input_snapshot["brand"]),
                    size=IMAGE_SIZES["square"],
                    trace_id=run.trace_id,
                    context={"brand_name": run.input_snapshot["brand"]["name"]},
                )
            )
        except AllProvidersFailed as error:
            if error.may_pass and not last_attempt:
                logger.info("image attempt failed, Celery retries it", extra={"deliverable_id": str(slot.pk)})
                raise ImageRetryable(error) from error
            slot_image_end(deliverable_id=slot.pk, warning=IMAGE_FAILED, reason=str(error)[:200])
            return
        except SoftTimeLimitExceeded:
            slot_image_end(deliverable_id=slot.pk, warning=IMAGE_FAILED, reason="soft time limit")
            return
        except Exception as error:  # a bug must end the slot (its copy is saved), not leave the run open
            logger.exception("image generation crashed", extra={"deliverable_id": str(slot.pk)})
            slot_image_end(deliverable_id=slot.pk, warning=IMAGE_FAILED, reason=type(error).__name__)
            return
        slot_image_end(deliverable_id=slot.pk, image=image, prompt=prompt)
    finally:
        trace_id_var.reset(trace_token)
        run_id_var.reset(run_token)


def slot_image_end(
    *, deliverable_id, image=None, prompt: str = "", warning: str | None = None, reason: str = ""
) -> bool:
    """End a slot that waits for its image: attach `image`, or add `warning` to the slot's warnings; then settle
    the run if this was its last slot. False when the slot was not waiting (another delivery ended it)."""
    with transaction.atomic():
        slot = awaiting_image().select_for_update().select_related("run").filter(pk=deliverable_id).first()
        if slot is None:
            return False
        metadata = dict(slot.metadata)
        if warning:
            metadata["warnings"] = sorted({*metadata.get("warnings", []), warning})
            logger.warning("image not made", extra={"deliverable_id": str(slot.pk), "reason": reason})
        Deliverable.objects.filter(pk=slot.pk, generation_status=Deliverable.Generation.RUNNING).update(
            generation_status=Deliverable.Generation.DONE, metadata=metadata, updated_at=timezone.now()
        )
        if image is not None:
            asset_create(
                brand_id=slot.run.brand_id,
                deliverable=slot,
                content=image.png_bytes,
                prompt=prompt,
                size=image.size,
                provider=image.provider,
                model=image.model,
            )
    run_finalize(run_pk=slot.run_id)
    return True


def _recorder(slot: Deliverable):
    def record(call: CallRecord) -> None:
        provider_call_save(call, run_id=slot.run_id, deliverable_id=slot.pk, brand_id=slot.run.brand_id)

    return record
