"""Test settings: fast hashing, in-memory cache, an isolated media root, no network, no real keys.

The suite runs on PostgreSQL (TEST_DATABASE_URL, default the local server). Off CI, a machine
without PostgreSQL falls back to SQLite and the integration tests skip; with CI=true they never skip:
a missing PostgreSQL or Redis fails the run.
"""

import os
import socket
import tempfile
from urllib.parse import urlparse

from aicmo.testing.private_redis import start_private_redis

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789"
AICMO_DEV_STUBS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = tempfile.mkdtemp(prefix="aicmo-test-media-")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]

# Tests never read the developer's keys: each test configures the providers it drives.
OPENAI_API_KEY = ANTHROPIC_API_KEY = GROQ_API_KEY = OLLAMA_BASE_URL = ""
OPENAI_BASE_URL = ANTHROPIC_BASE_URL = ""
AICMO_LLM_PRIMARY_PROVIDER = ""
AICMO_LLM_FALLBACK_PROVIDERS = []
AICMO_FORCE_LLM_PROVIDER_FAIL = []
AICMO_LLM_TIMEOUT_S = 5.0
# Unit tests run a run's tasks only after the request (their on-commit callbacks fire when the test leaves
# `run_tasks_inline`), so the default wait would always run out: generate answers 202 at once unless a test asks
# for `?wait=` or overrides this. Live-server tests run with the product's default (90 s).
AICMO_API_WAIT_S = 0.0
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"generate": "1000/min"}}

CI = os.environ.get("CI") == "true"
# A private server per test run (aicmo/testing/private_redis.py), one database per xdist worker.
TEST_REDIS_URL = env("TEST_REDIS_URL", default="") or start_private_redis() or "redis://127.0.0.1:6379/15"
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and urlparse(TEST_REDIS_URL).path in ("", "/", "/0"):
    TEST_REDIS_URL = urlparse(TEST_REDIS_URL)._replace(path=f"/{int(_xdist_worker[2:]) + 1}").geturl()
_pg_url = env("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/aicmo")


def _reachable(url: str) -> bool:
    parts = urlparse(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1).close()
        return True
    except OSError:
        return False


_wants_postgres = _pg_url.startswith("postgres")  # else TEST_DATABASE_URL names another database on purpose
# On CI, never fall back: a missing PostgreSQL must fail the run.
POSTGRES_AVAILABLE = _wants_postgres and (CI or _reachable(_pg_url))
DATABASES = {
    "default": env.db_url_config(_pg_url if POSTGRES_AVAILABLE or not _wants_postgres else "sqlite://:memory:")
}

# Unit tests run tasks inline (the `run_tasks_inline` fixture); integration tests start real workers that
# consume from this Redis database. Timeouts keep a test from hanging on a stopped Redis.
CELERY_BROKER_URL = TEST_REDIS_URL
REDIS_URL = TEST_REDIS_URL  # run announcements and studio streams: the run's private server, never make run's socket
REDIS_IS_EMBEDDED = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 3, "socket_connect_timeout": 2, "visibility_timeout": 60}
