"""What a Celery task that makes an image passes to `shared_task`: Celery's own retry is the one retry loop for
images. A failure that may pass (`ImageRetryable`: a timeout, 429, 5xx, a dropped connection) is published again
with an exponential, fully jittered countdown, so the worker slot is free meanwhile, no worker sleeps through the
backoff, and each try shows in Flower."""

from django.conf import settings

from .exceptions import ImageRetryable


def image_task_options() -> dict:
    return {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "ignore_result": True,
        "autoretry_for": (ImageRetryable,),
        "max_retries": settings.AICMO_IMAGE_RETRIES,
        "retry_backoff": settings.AICMO_IMAGE_RETRY_BACKOFF_S,
        "retry_backoff_max": settings.AICMO_IMAGE_RETRY_BACKOFF_MAX_S,
        "retry_jitter": True,
    }
