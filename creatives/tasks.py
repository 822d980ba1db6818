"""Thin Celery tasks: take ids, call a service, return. Redelivery is safe (the services are idempotent)."""

from celery import shared_task

from .studio.services import reply_generate


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def studio_reply(message_id: int) -> None:
    reply_generate(message_id=message_id)
