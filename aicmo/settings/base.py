"""Settings shared by every environment. Everything configurable is read through one `environ.Env`."""

import os
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Local state of the `make run` shape: the embedded Redis server's socket, beat's schedule, media.
VAR_DIR = Path(os.environ.get("AICMO_VAR_DIR") or BASE_DIR / "var").resolve()

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Production-safe by default: no debug pages and no known secret key. dev.py turns debugging on explicitly;
# production.py refuses to start without a real key.
DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files from our own static files, not a CDN (CSP)
    "django_htmx",
    "axes",
    "aicmo.core",
    "brands",
    "campaigns",
    "deliverables",
    "creatives",
]

MIDDLEWARE = [
    "aicmo.core.middleware.StreamThreadReleaseMiddleware",  # first: an open stream keeps no thread (ASGI)
    "aicmo.core.trace.TraceIdMiddleware",
    "aicmo.core.middleware.RequestLogMiddleware",  # one JSON line per request, with its trace id
    "aicmo.core.middleware.RequestSizeLimitMiddleware",  # 413 before anything reads an oversized body
    "aicmo.core.middleware.NullCharacterMiddleware",  # %00 in a filter: 400, not 500 (PostgreSQL refuses NUL)
    "aicmo.core.middleware.HealthProbeMiddleware",  # /healthz before the host and HTTPS checks below
    "django.middleware.security.SecurityMiddleware",
    "aicmo.core.middleware.StaticFilesMiddleware",  # WhiteNoise, dual-mode (ASGI)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the 429 answer
]

ROOT_URLCONF = "aicmo.urls"
WSGI_APPLICATION = "aicmo.wsgi.application"
ASGI_APPLICATION = "aicmo.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "brands.context_processors.roles",
                "deliverables.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a reused connection is checked before use
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web and worker share the file: wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# The ASGI web process (aicmo/asgi.py sets AICMO_DB_POOL) runs each request's sync parts on a thread of the
# request's own, so a persistent connection per thread would be a new connection per request, and a burst of
# requests (a thousand open waits arriving) would exceed PostgreSQL's max_connections. A pool bounds them per
# process (Django's psycopg pool; it needs CONN_MAX_AGE 0). Celery workers keep their persistent connection.
if env.bool("AICMO_DB_POOL", default=False) and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("AICMO_DB_POOL_SIZE", default=10),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("AICMO_MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"  # never served directly: files go through views that check brand membership
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Keep a copy of every export in the default storage (exports/<brand>/<run>/), named in its audit event.
AICMO_KEEP_EXPORTS = env.bool("AICMO_KEEP_EXPORTS", default=True)
# Images and export files on S3-compatible object storage (AWS S3, MinIO, Ceph, R2…) when a bucket is
# named, so web and workers on different machines share them. Objects stay private: the app streams each
# one to members of its brand (/assets/<id>/file), and any URL the storage itself makes is signed.
AICMO_S3_BUCKET = env("AICMO_S3_BUCKET", default="")
if AICMO_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AICMO_S3_BUCKET,
            "endpoint_url": env("AICMO_S3_ENDPOINT_URL", default="") or None,  # unset: AWS itself
            # unset: boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, instance roles)
            "access_key": env("AICMO_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AICMO_S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env("AICMO_S3_REGION", default="") or None,
            "location": env("AICMO_S3_PREFIX", default=""),  # a folder inside the bucket
            "addressing_style": env("AICMO_S3_ADDRESSING_STYLE", default="") or None,  # "path" for MinIO
            "default_acl": None,  # the bucket's own (keep it private); no public-read objects
            "querystring_auth": True,
            "querystring_expire": env.int("AICMO_S3_URL_EXPIRE_S", default=300),
            "file_overwrite": False,  # a second file of the same name gets its own key
            "signature_version": "s3v4",
        },
    }

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("AICMO_MAX_REQUEST_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
AICMO_MAX_UPLOAD_BYTES = env.int("AICMO_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)  # multipart bodies (files)
# Failed log-ins from one client address before it is locked out for the window (django-axes; aicmo/core/login.py).
AICMO_LOGIN_MAX_FAILURES = env.int("AICMO_LOGIN_MAX_FAILURES", default=10)
AICMO_LOGIN_WINDOW_S = env.int("AICMO_LOGIN_WINDOW_S", default=15 * 60)
AXES_FAILURE_LIMIT = AICMO_LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=AICMO_LOGIN_WINDOW_S)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]  # spraying is limited; no account can be locked by a stranger
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "aicmo.core.login.client_ip"
AXES_LOCKOUT_CALLABLE = "aicmo.core.login.lockout_response"
AXES_VERBOSE = False
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out address before any password check
    "django.contrib.auth.backends.ModelBackend",
]
# Reverse proxies in front of the app that append to X-Forwarded-For (the log-in throttle counts per client).
AICMO_TRUSTED_PROXIES = env.int("AICMO_TRUSTED_PROXIES", default=0)

# --- Redis, broker, cache ---------------------------------------------------------------------------
# With neither REDIS_URL nor CELERY_BROKER_URL set, everything points at the embedded Redis server that `make run`
# (aicmo/devserver.py) starts on this socket: broker, cache, cooldowns, throttles and studio streams take the
# same code path as production. Without `make run` nothing listens there and the broker counts as down.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
EMBEDDED_REDIS_URL = f"unix://{EMBEDDED_REDIS_SOCKET}?db=0"


def _broker_url_for(redis_url: str) -> str:
    """kombu names a Redis on a Unix socket `redis+socket://PATH`; redis-py names it `unix://PATH`."""
    if redis_url.startswith("unix://"):
        path, _, query = redis_url.removeprefix("unix://").partition("?")
        db = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("db", "0")
        return f"redis+socket://{path}?virtual_host={db}"
    return redis_url


_broker_env = env("CELERY_BROKER_URL", default="")
REDIS_URL = env("REDIS_URL", default="") or (
    _broker_env if _broker_env.startswith(("redis://", "rediss://")) else EMBEDDED_REDIS_URL
)
CELERY_BROKER_URL = _broker_env or _broker_url_for(REDIS_URL)
REDIS_IS_EMBEDDED = REDIS_URL == EMBEDDED_REDIS_URL

CACHES = {
    "default": {
        "BACKEND": "aicmo.core.cache.RedisCache",  # Django's, a client kept per pool
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
}

# --- LLM providers ------------------------------------------------------------------------------------
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")
GROQ_API_KEY = env("GROQ_API_KEY", default="")
GROQ_BASE_URL = env("GROQ_BASE_URL", default="https://api.groq.com/openai/v1")
OLLAMA_BASE_URL = env("OLLAMA_BASE_URL", default="")

AICMO_LLM_PRIMARY_PROVIDER = env("AICMO_LLM_PRIMARY_PROVIDER", default="")
AICMO_LLM_FALLBACK_PROVIDERS = env.list("AICMO_LLM_FALLBACK_PROVIDERS", default=[])
AICMO_FORCE_LLM_PROVIDER_FAIL = env.list("AICMO_FORCE_LLM_PROVIDER_FAIL", default=[])
AICMO_DEV_STUBS = env.bool("AICMO_DEV_STUBS", default=False)
# One deadline per provider call, from connect to last byte (the chain's watchdog, aicmo/llm/deadline.py)…
AICMO_LLM_TIMEOUT_S = env.float("AICMO_LLM_TIMEOUT_S", default=60.0)
# …and the longest silence a stream may keep (before its first event too) before it counts as timed out.
AICMO_LLM_STREAM_IDLE_S = env.float("AICMO_LLM_STREAM_IDLE_S", default=20.0)
AICMO_LLM_MAX_TOKENS = env.int("AICMO_LLM_MAX_TOKENS", default=1800)
# Circuit breaker: this many availability failures in a row (timeouts, connection errors, 429, 5xx; never a bad
# answer) open the cooldown of a provider and model for this long.
AICMO_COOLDOWN_FAILURES = env.int("AICMO_COOLDOWN_FAILURES", default=3)
AICMO_COOLDOWN_S = env.float("AICMO_COOLDOWN_S", default=60.0)

AICMO_OPENAI_MODEL = env("AICMO_OPENAI_MODEL", default="gpt-4.1-mini")
AICMO_ANTHROPIC_MODEL = env("AICMO_ANTHROPIC_MODEL", default="claude-sonnet-4-6")
AICMO_GROQ_MODEL = env("AICMO_GROQ_MODEL", default="llama-3.3-70b-versatile")
AICMO_OLLAMA_MODEL = env("AICMO_OLLAMA_MODEL", default="llama3.1")
AICMO_OFFLINE_MODEL = "offline-templates-v1"
AICMO_IMAGE_MODEL = env("AICMO_IMAGE_MODEL", default="gpt-image-1")

AICMO_DEBUG_LOGGING = env.bool("AICMO_DEBUG_LOGGING", default=False)
AICMO_DEMO_PASSWORD = env("AICMO_DEMO_PASSWORD", default="demo-pass-123")
# A task delivered more often than this (a worker killed every time) ends as a failed deliverable.
AICMO_MAX_TASK_DELIVERIES = env.int("AICMO_MAX_TASK_DELIVERIES", default=3)
# Every provider call ends by its deadline, so a task's worst case is known: a deliverable makes at most 5 calls
# per provider in the chain (its answer and one repair, the same for one "shorten" rewrite, one image), a studio
# reply 4 model rounds plus the images its tools make (8 allowed for). Celery's limits sit above that, for the
# providers configured here (offline answers at once), so they are a last resort, never how a slow call ends.
AICMO_LLM_NETWORK_PROVIDERS = max(1, sum(map(bool, (OPENAI_API_KEY, ANTHROPIC_API_KEY, GROQ_API_KEY, OLLAMA_BASE_URL))))
AICMO_LLM_CALLS_PER_PROVIDER = 8
CELERY_TASK_SOFT_TIME_LIMIT = int(AICMO_LLM_TIMEOUT_S * AICMO_LLM_CALLS_PER_PROVIDER * AICMO_LLM_NETWORK_PROVIDERS) + 30
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
# A run still RUNNING this long after its last progress is re-dispatched or failed by the sweeper (by default
# not before a task still working on it would have hit its hard time limit).
AICMO_RUN_STUCK_AFTER_S = env.int("AICMO_RUN_STUCK_AFTER_S", default=max(600, CELERY_TASK_TIME_LIMIT + 60))
AICMO_MAX_WAIT_S = 120
# How long a generate call waits for its run before answering 202 (contract §5; `?wait=N` overrides per call).
AICMO_API_WAIT_S = env.float("AICMO_API_WAIT_S", default=90.0)
# Per user, open at once: long polls (`?wait=` > 0 on generate and run reads) and studio reply streams (429 past it).
AICMO_MAX_CONCURRENT_WAITS = env.int("AICMO_MAX_CONCURRENT_WAITS", default=4)
AICMO_MAX_CONCURRENT_STREAMS = env.int("AICMO_MAX_CONCURRENT_STREAMS", default=3)
# JSON request bodies nested deeper than this answer 400 before they are parsed (aicmo/core/parsers.py).
AICMO_MAX_JSON_DEPTH = env.int("AICMO_MAX_JSON_DEPTH", default=32)
# Creative studio: the model sees at most this many recent messages (plus the confirmed brief).
AICMO_STUDIO_HISTORY_MESSAGES = env.int("AICMO_STUDIO_HISTORY_MESSAGES", default=12)
AICMO_STUDIO_DB_THREADS = env.int("AICMO_STUDIO_DB_THREADS", default=2)  # ChatKit's ORM threads per web process
# Idle request threads an ASGI web process keeps for the next requests (aicmo/core/threads.py); 0: none.
AICMO_REQUEST_THREADS_KEPT = env.int("AICMO_REQUEST_THREADS_KEPT", default=8)
# Images a marketer attaches in the studio (PNG, JPEG or WebP): at most this many bytes each.
AICMO_STUDIO_ATTACHMENT_MAX_BYTES = env.int("AICMO_STUDIO_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Images (a run's slot images and the studio's generate_ad_image) are Celery tasks retried by Celery itself
# (`autoretry_for`, exponential backoff with full jitter) when every provider failed in a way that may pass:
# AICMO_IMAGE_RETRIES more attempts, the n-th after a random 0 to min(BACKOFF_S * 2**n, BACKOFF_MAX_S) seconds
# (whole seconds: Celery's backoff factor is an integer). Text calls are retried by the provider chain alone.
AICMO_IMAGE_RETRIES = env.int("AICMO_IMAGE_RETRIES", default=2)
AICMO_IMAGE_RETRY_BACKOFF_S = env.int("AICMO_IMAGE_RETRY_BACKOFF_S", default=2)
AICMO_IMAGE_RETRY_BACKOFF_MAX_S = env.int("AICMO_IMAGE_RETRY_BACKOFF_MAX_S", default=30)

# --- Celery -----------------------------------------------------------------------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # with acks_late: a SIGKILLed child's task is redelivered
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep a worker's database connection across tasks (Celery's Django fixup would otherwise close it around
# every task: a new PostgreSQL backend per task, ~5 ms of server CPU). aicmo/celery.py still applies
# Django's CONN_MAX_AGE and health checks around each task.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_IGNORE_RESULT = True  # state lives in the database, not in a result backend
# CELERY_TASK_SOFT_TIME_LIMIT and CELERY_TASK_TIME_LIMIT: with the LLM settings above (computed from them).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Above the task time limit, so a long task is not redelivered while it still runs.
    "visibility_timeout": env.int("AICMO_BROKER_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 300),
    # A frozen Redis must not hang a web request forever.
    "socket_timeout": 5,
    "socket_connect_timeout": 3,
    # How often a worker looks for unacked tasks of dead workers (kombu's default is ~100 s).
    "unacked_restore_interval": env.int("AICMO_BROKER_RESTORE_INTERVAL_S", default=10),
    "unacked_restore_throttle": 1,
}
# Beat's shelve file; this scheduler creates its folder before opening it (a missing one crashed beat).
CELERY_BEAT_SCHEDULER = "aicmo.celery:SchedulePersistentScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = env("AICMO_BEAT_SCHEDULE", default=str(VAR_DIR / "celerybeat-schedule"))
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-runs": {
        "task": "deliverables.tasks.requeue_stuck_runs",
        "schedule": env.float("AICMO_SWEEP_INTERVAL_S", default=60.0),
    },
}

# --- email (notifications) and review links --------------------------------------------------------
# EMAIL_URL: consolemail:// (dev default: printed), smtp+tls://user:password@host:587, … (django-environ).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="AICMO <aicmo@localhost>")
# Absolute links in emails (the unsubscribe link, deliverables); review links use the request's own host.
AICMO_SITE_URL = env("AICMO_SITE_URL", default="http://127.0.0.1:8000")
AICMO_REVIEW_LINK_MAX_HOURS = 720
# Webhooks: loopback / private targets are refused unless this is on (dev.py turns it on with DEBUG).
AICMO_WEBHOOK_ALLOW_PRIVATE = env.bool("AICMO_WEBHOOK_ALLOW_PRIVATE", default=False)
AICMO_WEBHOOK_TIMEOUT_S = env.float("AICMO_WEBHOOK_TIMEOUT_S", default=10.0)
AICMO_WEBHOOK_BACKOFF_S = env.float("AICMO_WEBHOOK_BACKOFF_S", default=5.0)  # first retry; doubles each time
CELERY_BEAT_SCHEDULE["review-links-sweep"] = {
    "task": "deliverables.tasks.review_links_sweep",
    "schedule": env.float("AICMO_REVIEW_SWEEP_INTERVAL_S", default=900.0),
}

# --- DRF ----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # first: 401s say `WWW-Authenticate: Token`
        "aicmo.core.authentication.ThrottledBasicAuthentication",  # credentials in a client's base URL
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "aicmo.core.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "aicmo.core.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "aicmo.core.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "generate": env("AICMO_GENERATE_RATE", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AICMO API",
    "DESCRIPTION": "Briefs in, reviewed marketing deliverables out.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies documented as JSON only (the API's clients send JSON; the form parsers serve the browsable
    # API): one content type per body is what client generators turn into one working `body` argument.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "aicmo.core.schema_hooks.document_body_limit",
        "deliverables.schema.envelope_component",  # the envelope's one JSON Schema (deliverables/envelope_schema.py)
    ],
}

# --- Logging --------------------------------------------------------------------------------------------
LOG_LEVEL = "DEBUG" if AICMO_DEBUG_LOGGING else env("AICMO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "aicmo.core.logging.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(run_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "aicmo": {"level": LOG_LEVEL},
        "campaigns": {"level": LOG_LEVEL},
        "creatives": {"level": LOG_LEVEL},
        "deliverables": {"level": LOG_LEVEL},
        "django.request": {"level": "ERROR"},
        "celery": {"level": "INFO"},
        # The SDKs log whole prompts at DEBUG: keep them quiet unless asked.
        "openai": {"level": "DEBUG" if AICMO_DEBUG_LOGGING else "WARNING"},
        "anthropic": {"level": "DEBUG" if AICMO_DEBUG_LOGGING else "WARNING"},
        "httpx": {"level": "WARNING"},
        # The SDKs' HTTP client is httpx2 (one line per request at INFO; httpcore2 traces at DEBUG).
        "httpx2": {"level": "INFO" if AICMO_DEBUG_LOGGING else "WARNING"},
        "httpcore2": {"level": "WARNING"},
    },
}
