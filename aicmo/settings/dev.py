"""The `make run` shape (the default of manage.py, ASGI, WSGI and Celery): SQLite, the embedded Redis server
(aicmo/devserver.py) and the offline provider unless keys are set. Debug pages are on (DJANGO_DEBUG=false turns
them off) but cannot leak: they show no URL list and mask every credential, passwords inside URLs and the
environment included."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# An empty value counts as unset: development gets its insecure key (production refuses it).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or "dev-insecure-secret-key-change-me"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

DEFAULT_EXCEPTION_REPORTER_FILTER = "aicmo.core.debug.CredentialMaskingFilter"
MIDDLEWARE = [*MIDDLEWARE, "aicmo.core.debug.NoUrlListMiddleware"]
# Webhooks to 127.0.0.1 and the LAN are fine on a developer's machine (never in production).
AICMO_WEBHOOK_ALLOW_PRIVATE = env.bool("AICMO_WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
