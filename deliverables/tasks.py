"""Thin Celery tasks: take ids, call a service, return. Redelivery is safe (the services are idempotent)."""

from celery import shared_task
from django.conf import settings

from aicmo.llm.image_tasks import image_task_options

from .services import deliverable_generate
from .services.recovery import runs_requeue_stuck
from .services.slot_image import slot_image_generate


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def generate_deliverable(self, deliverable_id: str) -> None:
    # Redis marks a message it hands back after a worker died; only such a delivery may take over a slot
    # another delivery claimed (see deliverable_generate).
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    deliverable_generate(deliverable_id=deliverable_id, redelivered=redelivered)


@shared_task(**image_task_options())
def generate_slot_image(self, deliverable_id: str) -> None:
    slot_image_generate(deliverable_id=deliverable_id, last_attempt=self.request.retries >= self.max_retries)


@shared_task(ignore_result=True)
def requeue_stuck_runs() -> dict[str, int]:
    return runs_requeue_stuck()


@shared_task(ignore_result=True)
def review_links_sweep() -> dict[str, int]:
    from .services.review_links import review_links_sweep as sweep

    return sweep()


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=5)
def deliver_webhook(self, webhook_id: int, event_id: str, body: dict) -> None:
    from .services.webhooks import DeliveryFailed, webhook_attempt

    try:
        webhook_attempt(webhook_id=webhook_id, event_id=event_id, body=body, attempt=self.request.retries + 1)
    except DeliveryFailed as error:
        # 1 s, 2 s, 4 s, … (AICMO_WEBHOOK_BACKOFF_S doubles each time), five retries in all.
        raise self.retry(exc=error, countdown=settings.AICMO_WEBHOOK_BACKOFF_S * 2**self.request.retries) from error


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def rewrite_deliverable(self, rewrite_id: str) -> None:
    from .services.rewrite import rewrite_perform

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    rewrite_perform(rewrite_id=rewrite_id, redelivered=redelivered)
