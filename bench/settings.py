"""Settings of the benchmark driver process: PostgreSQL `aicmo_bench` and Redis database 9.

The processes a benchmark starts (Celery workers, gunicorn) run the product's own settings
(`aicmo.settings.dev` with DJANGO_DEBUG=0), configured through the environment like production.
"""

import warnings

from aicmo.settings.base import *  # noqa: F403
from aicmo.settings.base import LOGGING, VAR_DIR, env

# WhiteNoise's note that collectstatic has not run (the pages are rendered in-process, static files unused).
warnings.filterwarnings("ignore", "No directory at", UserWarning)

DEBUG = False
SECRET_KEY = "bench-insecure-secret-key"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

DATABASES = {"default": env.db("BENCH_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/aicmo_bench")}
DATABASES["default"]["CONN_MAX_AGE"] = 60

# `TEST_REDIS_URL` is the name aicmo.testing.processes reads for the children's broker and cache.
TEST_REDIS_URL = env("BENCH_REDIS_URL", default="redis://127.0.0.1:6379/9")
REDIS_URL = CELERY_BROKER_URL = TEST_REDIS_URL
CACHES = {
    "default": {
        "BACKEND": "aicmo.core.cache.RedisCache",  # Django's, a client kept per pool
        "LOCATION": TEST_REDIS_URL,
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "socket_timeout": 5, "socket_connect_timeout": 3}

MEDIA_ROOT = VAR_DIR / "bench" / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Providers are configured per benchmark (override_settings / child environment); none by default.
OPENAI_API_KEY = ANTHROPIC_API_KEY = GROQ_API_KEY = OLLAMA_BASE_URL = ""
OPENAI_BASE_URL = ANTHROPIC_BASE_URL = ""
AICMO_DEV_STUBS = False

# The product's logging (INFO, JSON), written to a file instead of the console: the chain's per-call log line is
# part of what it costs, and the console stays readable.
LOG_DIR = VAR_DIR / "bench" / "logs"
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING = {
    **LOGGING,
    "handlers": {
        "console": {
            "class": "logging.FileHandler",
            "filename": str(LOG_DIR / "driver.log"),
            "formatter": "json",
            "filters": ["context"],
        }
    },
}
