"""Liveness of what the product depends on: the database and the broker, asked from a thread (`database_ok`,
`broker_ok`: the view under WSGI and the test client) or from the event loop (`checked_async`: probes.py)."""

import asyncio
import weakref
from urllib.parse import parse_qs

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from .redis_clients import async_client, sync_client

PATHS = ("/healthz", "/health")
TIMEOUT_S = 2.0


def report(*, db: bool, broker: bool) -> tuple[int, dict[str, str]]:
    """The probe's status code and JSON: 200 when both answer; 503 naming what is down."""
    healthy = db and broker
    checks = {"db": "ok" if db else "down", "broker": "ok" if broker else "down"}
    return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", **checks}


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


def broker_ok(timeout_s: float = TIMEOUT_S) -> bool:
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


async def checked_async() -> tuple[int, dict[str, str]]:
    """`report` of both checks, asked at once from the event loop."""
    db, broker = await asyncio.gather(database_ok_async(), broker_ok_async())
    return report(db=db, broker=broker)


class _ProbeConnection:
    """The database connection of one event loop's probes, kept: a probe a few times a second costs one round
    trip, not a connection. Opened on the first probe and again after a failure; probes take turns on it."""

    def __init__(self):
        self.lock = asyncio.Lock()
        self.connection: psycopg.AsyncConnection | None = None

    async def select_one(self) -> None:
        async with self.lock:
            try:
                if self.connection is None or self.connection.closed:
                    self.connection = await psycopg.AsyncConnection.connect(**_probe_params(), autocommit=True)
                await self.connection.execute("SELECT 1")
            except BaseException:  # refused, broken, or cut short by the timeout: in an unknown state
                await self.close()
                raise

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.close()


_probe_connections: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ProbeConnection]" = (
    weakref.WeakKeyDictionary()
)


async def database_ok_async(timeout_s: float = TIMEOUT_S) -> bool:
    """`database_ok` without a thread: PostgreSQL answers `SELECT 1` on the running loop's kept connection
    (psycopg's async one). Another database is asked on a shared thread."""
    if connection.vendor != "postgresql":
        return await sync_to_async(_database_ok_closing, thread_sensitive=False)()
    probe = _probe_connections.setdefault(asyncio.get_running_loop(), _ProbeConnection())
    try:
        async with asyncio.timeout(timeout_s):
            await probe.select_one()
        return True
    except Exception:
        return False


def _probe_params() -> dict:
    """Django's connection parameters for the default database, less what only its sync cursors use."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    params.setdefault("connect_timeout", int(TIMEOUT_S))
    params["application_name"] = "aicmo-healthz"
    return params


def _database_ok_closing() -> bool:
    try:
        return database_ok()
    finally:
        connection.close()  # a shared thread keeps no connection


async def broker_ok_async(timeout_s: float = TIMEOUT_S) -> bool:
    """`broker_ok` without a thread for a Redis broker (PING on the running loop's kept client); another broker
    is connected to on a shared thread."""
    redis_url = _redis_url_for_broker(settings.CELERY_BROKER_URL)
    if redis_url is None:
        return await sync_to_async(broker_ok, thread_sensitive=False)(timeout_s)
    client = async_client(redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        async with asyncio.timeout(timeout_s):  # redis-py's retries and pool wait included
            return bool(await client.ping())
    except Exception:
        return False
