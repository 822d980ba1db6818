"""The ASGI application: uvicorn (`make run`) and gunicorn's uvicorn workers (production) serve it."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")
os.environ.setdefault("AICMO_DB_POOL", "1")  # bounded database connections per web process (settings/base.py)
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application() does, before its handler

from django.urls import get_resolver  # noqa: E402  (after setup, as every import below)

from aicmo.core.probes import HealthProbes  # noqa: E402
from aicmo.core.threads import ASGIHandler  # noqa: E402

# Django's handler, each request's sync parts on a lent thread (aicmo/core/threads.py); /healthz answered before
# it, on the event loop (aicmo/core/probes.py).
application = HealthProbes(ASGIHandler())

# The garbage collector's full passes walked every object of Django, DRF, pydantic and ChatKit: with a thousand
# studio streams open, each paused the event loop for 0.1-0.5 s. What every request needs is imported now (the URL
# conf imports every view, the ChatKit server among them) and frozen out of the collector's walks; and full passes
# come after 1,000 middle ones instead of 10 (young objects are still collected as often as before).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
gc.set_threshold(gc.get_threshold()[0], 10, 1000)
