"""Thin Celery tasks: take ids, call a service, return. Redelivery is safe (the services are idempotent)."""

from celery import shared_task

from aicmo.llm.image_tasks import image_task_options

from .studio.assistant import reply_generate, reply_image_step


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def studio_respond(thread_id: str, reply_key: str, user_item_id: str, trace_id: str) -> None:
    reply_generate(thread_id=thread_id, reply_key=reply_key, user_item_id=user_item_id, trace_id=trace_id)


# The reply waits for its image with its stream open while Celery retries it (as generate_slot_image).
@shared_task(**image_task_options())
def studio_image(self, thread_id: str, reply_key: str, trace_id: str, call_index: int) -> None:
    reply_image_step(
        thread_id=thread_id,
        reply_key=reply_key,
        trace_id=trace_id,
        call_index=call_index,
        attempt=self.request.retries + 1,
        last_attempt=self.request.retries >= self.max_retries,
    )
