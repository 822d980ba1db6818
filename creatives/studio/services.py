"""Writes of the creative studio on the web side: a thread, and the start of a reply (claimed on the thread,
queued for a worker). The reply itself is written by the worker (assistant.py)."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aicmo.core.errors import ApplicationError, Conflict, PermissionDenied
from brands.models import Brand
from brands.roles import GENERATE, may
from brands.selectors import brands_for

from ..models import StudioThread
from .items import DEFAULT_TITLE

logger = logging.getLogger(__name__)

MESSAGE_MAX_CHARS = 4000
REPLY_TASK = "creatives.tasks.studio_respond"


def thread_create(*, user, brand: Brand) -> StudioThread:
    if not brands_for(user).filter(pk=brand.pk).exists():
        raise ApplicationError("You are not a member of this brand.")
    return StudioThread.objects.create(user=user, brand=brand, title=DEFAULT_TITLE)


def require_ask_permission(user, brand_id: int) -> None:
    """A reply spends the brand's LLM budget, like a generate run: the same role is needed."""
    if not may(user, brand_id, GENERATE):
        raise PermissionDenied(
            "Your role does not allow asking the studio assistant (it spends the brand's AI budget)."
        )


def message_text_check(text: str, *, with_attachments: bool = False) -> None:
    """A message needs words, unless it carries images."""
    if not text.strip() and not with_attachments:
        raise ApplicationError("Write a message first.", details={"text": ["This field may not be blank."]})
    if len(text) > MESSAGE_MAX_CHARS:
        raise ApplicationError(
            f"The message is too long (at most {MESSAGE_MAX_CHARS} characters).",
            details={"text": [f"Ensure this field has no more than {MESSAGE_MAX_CHARS} characters."]},
        )


def reply_start(*, user, thread_id: str, user_item_id: str, trace_id: str) -> str:
    """Claim the thread for one reply (one at a time per thread) and queue it once committed. Returns the
    reply's key (its Redis stream). A claim nobody touched for AICMO_RUN_STUCK_AFTER_S lost its worker and
    is taken over."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.AICMO_RUN_STUCK_AFTER_S)
    reply_key = uuid.uuid4().hex
    with transaction.atomic():
        thread = StudioThread.objects.select_for_update().filter(pk=thread_id, user=user).first()
        if thread is None:
            raise ApplicationError("This conversation is someone else's.")
        require_ask_permission(user, thread.brand_id)
        if thread.reply_key and thread.reply_started_at and thread.reply_started_at >= stuck_before:
            raise Conflict("The assistant is still answering: wait for the reply.")
        StudioThread.objects.filter(pk=thread.pk).update(
            reply_key=reply_key, reply_started_at=now, reply_attempt=0, reply_state={}, updated_at=now
        )
        transaction.on_commit(
            lambda: reply_dispatch(
                thread_id=str(thread.pk), reply_key=reply_key, user_item_id=user_item_id, trace_id=trace_id
            )
        )
    return reply_key


def reply_dispatch(*, thread_id: str, reply_key: str, user_item_id: str, trace_id: str) -> None:
    """Queue the reply's task. With the broker down the claim is released and the error is raised (the stream
    answers it as an error event)."""
    from kombu.exceptions import OperationalError

    from aicmo.celery import app as celery_app

    # By name, on the project's app: `celery.current_app` is thread-local, and this runs on a ChatKit database
    # thread where it would be Celery's empty default app (creatives/apps.py registers the task everywhere).
    studio_respond = celery_app.tasks[REPLY_TASK]
    try:
        studio_respond.apply_async(
            args=[thread_id, reply_key, user_item_id, trace_id],
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
        )
    except (OperationalError, ConnectionError, OSError) as error:
        logger.error("broker unavailable, studio reply not queued", extra={"error": str(error)[:200]})
        reply_release(thread_id=thread_id, reply_key=reply_key)
        raise ApplicationError(
            "The queue is unavailable right now, so the assistant could not start. Try again in a moment."
        ) from None


def reply_release(*, thread_id: str, reply_key: str) -> bool:
    """End the thread's claim, if it is still this reply's."""
    return bool(
        StudioThread.objects.filter(pk=thread_id, reply_key=reply_key).update(
            reply_key="", reply_started_at=None, reply_state={}
        )
    )
