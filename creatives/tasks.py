"""Thin Celery tasks: take ids, call a service, return. Redelivery is safe (the services are idempotent)."""

from celery import shared_task

from .studio.assistant import reply_generate


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def studio_respond(thread_id: str, reply_key: str, user_item_id: str, trace_id: str) -> None:
    reply_generate(thread_id=thread_id, reply_key=reply_key, user_item_id=user_item_id, trace_id=trace_id)
