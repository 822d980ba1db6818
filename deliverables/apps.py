from django.apps import AppConfig


class DeliverablesConfig(AppConfig):
    name = "deliverables"

    def ready(self):
        from aicmo.core.errors import failed_envelope_register  # apps are loaded now

        from .envelope import failed_envelope

        failed_envelope_register(failed_envelope)
        # Registers the tasks in every process: web and manage.py dispatch them by name (services/dispatch.py), and
        # Celery's autodiscovery runs only inside workers.
        from . import tasks  # noqa: F401
