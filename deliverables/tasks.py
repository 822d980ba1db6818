"""Thin Celery tasks: take ids, call a service, return. Redelivery is safe (the services are idempotent)."""

from celery import shared_task

from .services import deliverable_generate


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def generate_deliverable(deliverable_id: str) -> None:
    deliverable_generate(deliverable_id=deliverable_id)


@shared_task(ignore_result=True)
def requeue_stuck_runs() -> None:
    from .services.recovery import runs_requeue_stuck

    runs_requeue_stuck()
