"""The Celery app. Tasks live in each app's `tasks.py`; settings come from Django (`CELERY_*`)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")

app = Celery("aicmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _prepare_file_broker() -> None:
    """kombu's filesystem transport (the no-server broker of `make run`) expects its folders to exist."""
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)


app.on_after_configure.connect(lambda sender, **kwargs: _prepare_file_broker(), weak=False)


@setup_logging.connect(weak=False)
def _use_django_logging(**kwargs) -> None:
    """Workers and beat log through Django's LOGGING (JSON lines carrying trace_id and run_id) instead of
    Celery replacing the root handler with its own plain format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def _recycle_old_connections(**kwargs) -> None:
    """With CELERY_DB_REUSE_MAX, connections outlive tasks: drop those past CONN_MAX_AGE or broken, as Django
    does around each web request."""
    from django.db import close_old_connections

    close_old_connections()
