"""The Celery app. Tasks live in each app's `tasks.py`; settings come from Django (`CELERY_*`)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")

app = Celery("aicmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
