"""Thin Celery tasks: take ids, call a service, return. Redelivery is safe (the services are idempotent)."""

from celery import shared_task
from django.conf import settings

from aicmo.llm.exceptions import ImageRetryable

from .studio.assistant import reply_generate, reply_image_step


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def studio_respond(thread_id: str, reply_key: str, user_item_id: str, trace_id: str) -> None:
    reply_generate(thread_id=thread_id, reply_key=reply_key, user_item_id=user_item_id, trace_id=trace_id)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Celery's own retry, the one retry loop for images (as deliverables.tasks.generate_slot_image): the reply
    # waits for it with its stream open, and no worker sleeps through the backoff.
    autoretry_for=(ImageRetryable,),
    max_retries=settings.AICMO_IMAGE_RETRIES,
    retry_backoff=settings.AICMO_IMAGE_RETRY_BACKOFF_S,
    retry_backoff_max=settings.AICMO_IMAGE_RETRY_BACKOFF_MAX_S,
    retry_jitter=True,
)
def studio_image(self, thread_id: str, reply_key: str, trace_id: str, call_index: int) -> None:
    reply_image_step(
        thread_id=thread_id,
        reply_key=reply_key,
        trace_id=trace_id,
        call_index=call_index,
        attempt=self.request.retries + 1,
        last_attempt=self.request.retries >= self.max_retries,
    )
