"""The ASGI application: uvicorn (`make run`) and gunicorn's uvicorn workers (production) serve it."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aicmo.settings.dev")
os.environ.setdefault("AICMO_DB_POOL", "1")  # bounded database connections per web process (settings/base.py)
application = get_asgi_application()
