"""Liveness of what the product depends on: the database and the broker."""

from urllib.parse import parse_qs

from django.conf import settings
from django.db import connection

from .redis_clients import sync_client


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_url_for_broker(url: str) -> str | None:
    """The redis-py URL of a Redis broker (kombu names a Unix socket `redis+socket://PATH?virtual_host=N`), or
    None for a broker that is not Redis."""
    if url.startswith(("redis://", "rediss://")):
        return url
    if url.startswith("redis+socket://"):
        path, _, query = url.removeprefix("redis+socket://").partition("?")
        db = parse_qs(query).get("virtual_host", ["0"])[0]
        return f"unix://{path}?db={db}"
    return None


def broker_ok(timeout_s: float = 2.0) -> bool:
    """A Redis broker answers a PING on a kept connection (a probe a few times a second stays cheap: a new kombu
    connection and channel per probe cost about 10 ms of CPU each, a fifth of a busy web process's CPU with
    /healthz probed 20 times a second); another broker is connected to through kombu."""
    url = settings.CELERY_BROKER_URL
    redis_url = _redis_url_for_broker(url)
    if redis_url is not None:
        client = sync_client(redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        try:
            return bool(client.ping())
        except Exception:
            return False
    from kombu import Connection

    try:
        with Connection(
            url,
            connect_timeout=timeout_s,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout_s)
        return True
    except Exception:
        return False
