"""The Celery app. Tasks live in each app's `tasks.py`; settings come from Django (`CELERY_*`)."""

import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")

app = Celery("aicmo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class SchedulePersistentScheduler(PersistentScheduler):
    """Celery's shelve scheduler that creates the folder of its file first: a missing `var/` (a fresh clone) made
    beat crash at start, and nothing swept stuck runs afterwards."""

    def _open_schedule(self):
        Path(self.schedule_filename).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        return super()._open_schedule()


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
    does around each web request. Not around an eager task (`Task.apply`): it runs inside its caller, whose
    connection and transaction are not the task's to close (Celery's own Django fixup skips them too)."""
    from django.db import close_old_connections

    task = kwargs.get("task")
    if task is not None and getattr(task.request, "is_eager", False):
        return

    close_old_connections()
