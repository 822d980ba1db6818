"""The ASGI application: uvicorn (`make run`) and gunicorn's uvicorn workers (production) serve it."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")
os.environ.setdefault("AICMO_DB_POOL", "1")  # bounded database connections per web process (settings/base.py)
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application() does, before its handler

from aicmo.core.threads import ASGIHandler  # noqa: E402  (imports Django's handlers: after setup)

application = ASGIHandler()  # Django's, each request's sync parts on a lent thread (aicmo/core/threads.py)
