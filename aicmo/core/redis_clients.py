"""Redis clients kept for the process (sync) and for each event loop (async): a request borrows a pooled
connection instead of opening one.

Every client here tells redis-py its own version: otherwise each new connection reads it from the package's
metadata (about 0.5 ms of CPU), and a burst of a thousand ended studio streams opened hundreds of connections."""

import asyncio
import threading
import weakref

import redis
import redis.asyncio as aioredis
from redis.driver_info import DriverInfo

DRIVER = DriverInfo(lib_version=redis.__version__)  # what each connection announces (CLIENT SETINFO)

_sync: dict[tuple, redis.Redis] = {}
_sync_lock = threading.Lock()
_async: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def sync_client(url: str, **options) -> redis.Redis:
    """One thread-safe client (its own connection pool) per URL and options, for the process."""
    key = (url, *sorted(options.items()))
    with _sync_lock:
        client = _sync.get(key)
        if client is None:
            client = _sync[key] = redis.Redis.from_url(url, driver_info=DRIVER, **options)
        return client


def async_client(url: str, *, max_connections: int = 10, **options) -> aioredis.Redis:
    """One client per URL and options for the running event loop (a pool's connections belong to the loop that
    opened them). Its pool is bounded and a command waits for a free connection (a busy pool is load, not an
    outage, so the wait has no limit; a Redis that is down fails the command itself)."""
    clients = _async.setdefault(asyncio.get_running_loop(), {})
    key = (url, max_connections, *sorted(options.items()))
    client = clients.get(key)
    if client is None:
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=None, driver_info=DRIVER, **options
        )
        client = clients[key] = aioredis.Redis(connection_pool=pool)
    return client


def forget() -> None:
    """Drop every kept client (tests: a changed URL, a forked child)."""
    with _sync_lock:
        _sync.clear()
    _async.clear()
