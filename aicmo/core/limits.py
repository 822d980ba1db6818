"""Limits counted atomically in Redis: a rate per user (DRF throttle) and a cap on one user's open long waits and
streams.

DRF's own throttles read the cache, decide, then write it back: 40 concurrent requests all passed a limit of
30/min. Here each request is one Lua script on the Redis server (`INCR`, `PEXPIRE` on the first hit, `PTTL` for
`Retry-After`), so concurrent requests are counted one by one. The counters live in the default cache's Redis
(every shape but the unit tests', whose in-memory cache is counted under a lock instead).

Fail open: with Redis unreachable a request is let through and a warning logged (limits pace honest clients;
cost caps are budgets in the database)."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import ScopedRateThrottle

from .redis_clients import async_client

logger = logging.getLogger(__name__)

PREFIX = "aicmo:limit:"

# Fixed window from the first hit: count, and the milliseconds left in the window.
_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
# A concurrency slot: taken only under the cap; each take renews the expiry, so the count of a process that died
# holding slots is gone `hold` ms after the user's last take.
_ACQUIRE = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return n
"""
_RELEASE = """
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
"""


def _redis():
    """The default cache's Redis client, or None for another cache backend (the unit tests' local memory)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(write=True)  # Django's own client pool for this cache
    return None


_local_lock = threading.Lock()  # atomic counting for a non-Redis cache, within one process


def _local_eval(script: str, key: str, *args: int):
    with _local_lock:
        entry = cache.get(key)
        count, expires = entry if entry else (0, 0.0)
        now = time.monotonic()
        if expires and expires <= now:
            count, expires = 0, 0.0
        if script is _HIT:
            count += 1
            if count == 1:
                expires = now + args[0] / 1000
            cache.set(key, (count, expires), timeout=args[0] / 1000 + 1)
            return [count, int((expires - now) * 1000)]
        if script is _ACQUIRE:
            if count + 1 > args[0]:
                return 0
            cache.set(key, (count + 1, now + args[1] / 1000), timeout=args[1] / 1000 + 1)
            return count + 1
        count -= 1
        if count <= 0:
            cache.delete(key)
        else:
            cache.set(key, (count, expires), timeout=max(expires - now, 0) + 1)
        return count


def _eval(script: str, key: str, *args: int):
    client = _redis()
    if client is None:
        return _local_eval(script, key, *args)
    return client.eval(script, 1, key, *args)


async def _aeval(script: str, key: str, *args: int):
    """`_eval` from async code, on the event loop's client of the cache's Redis: no thread hop."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return await sync_to_async(_local_eval, thread_sensitive=False)(script, key, *args)
    options = backend._options
    client = async_client(
        backend._servers[0],
        socket_timeout=options.get("socket_timeout", 2),
        socket_connect_timeout=options.get("socket_connect_timeout", 2),
    )
    return await client.eval(script, 1, key, *args)


class ConcurrencyLimited(Throttled):
    """429: the user already holds every slot of a scope (open long waits, open streams)."""

    default_code = "too_many_open_requests"

    def __init__(self, scope: str, *, limit: int, retry_after_s: int):
        self.message = (
            f"Too many open {SCOPE_NAMES.get(scope, scope)} for this user (at most {limit}): "
            f"try again when one ends, or ask without waiting (?wait=0)."
            if scope == "wait"
            else f"Too many open {SCOPE_NAMES.get(scope, scope)} for this user (at most {limit}): "
            "try again when one ends."
        )
        super().__init__(wait=retry_after_s, detail=self.message)


SCOPE_NAMES = {"wait": "long waits", "stream": "streams"}


def rate_hit(key: str, *, limit: int, window_s: float) -> tuple[bool, float]:
    """Count one request against `limit` per `window_s`; returns (allowed, seconds until the window ends)."""
    try:
        count, ttl_ms = _eval(_HIT, PREFIX + key, int(window_s * 1000))
    except Exception as error:  # Redis down: let it through
        logger.warning("rate limit store unavailable, request allowed", extra={"key": key, "error": str(error)[:200]})
        return True, 0.0
    return int(count) <= limit, max(int(ttl_ms), 0) / 1000


@contextmanager
def concurrency_slot(scope: str, user_id, *, limit: int, hold_s: float, retry_after_s: int = 5) -> Iterator[None]:
    """Hold one of `limit` slots of `scope` for this user while the block runs; refused with Throttled (429) when
    all are taken. `hold_s` (longer than the block can last) bounds how long a crashed holder's slot counts."""
    key = f"{PREFIX}{scope}:{user_id}"
    try:
        taken = _eval(_ACQUIRE, key, limit, int(hold_s * 1000))
    except Exception as error:
        taken = _unavailable(key, error)
    _refuse_if_full(taken, scope, limit=limit, retry_after_s=retry_after_s)
    try:
        yield
    finally:
        if taken != -1:
            try:
                _eval(_RELEASE, key)
            except Exception:
                logger.warning("concurrency limit store unavailable at release", extra={"key": key})


def _unavailable(key: str, error: Exception) -> int:
    logger.warning("concurrency limit store unavailable, allowed", extra={"key": key, "error": str(error)[:200]})
    return -1  # not counted, so not released either


def _refuse_if_full(taken: int, scope: str, *, limit: int, retry_after_s: int) -> None:
    if taken == 0:
        raise ConcurrencyLimited(scope, limit=limit, retry_after_s=retry_after_s)


def long_wait_slot(user, wait_s: float):
    """The slot a long poll (`?wait=` > 0) holds while it waits."""
    if wait_s <= 0:
        return _nothing()
    return concurrency_slot(
        "wait", user.pk, limit=settings.AICMO_MAX_CONCURRENT_WAITS, hold_s=settings.AICMO_MAX_WAIT_S + 30
    )


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class AtomicScopedRateThrottle(ScopedRateThrottle):
    """DRF's ScopedRateThrottle (rates from DEFAULT_THROTTLE_RATES by `throttle_scope`; per user, or per address
    when anonymous), counted with `rate_hit` instead of DRF's read-modify-write of a request history."""

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, self._wait = rate_hit(key, limit=self.num_requests, window_s=self.duration)
        return allowed

    def wait(self) -> float:
        return self._wait


class SlotHeldStream:
    """An async stream (a ChatKit answer) that holds a concurrency slot until it is exhausted or closed. Django
    closes a streaming response's content when the connection ends; a slot whose stream never started is freed by
    `hold_s` at the latest."""

    def __init__(self, events, key: str | None):
        self._events, self._key, self._iterator = events, key, None

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._iterator is None:
            self._iterator = aiter(self._events)
        try:
            return await anext(self._iterator)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        key, self._key = self._key, None
        if key is not None:
            close = getattr(self._iterator or self._events, "aclose", None)
            try:
                if close:
                    await close()
            finally:
                try:
                    await _aeval(_RELEASE, key)
                except Exception:
                    logger.warning("concurrency limit store unavailable at release", extra={"key": key})


async def stream_slot(user, events, *, hold_s: float) -> SlotHeldStream:
    """Take one of the user's AICMO_MAX_CONCURRENT_STREAMS slots now (ConcurrencyLimited when none is free) and
    give it back when the stream `events` ends or its connection closes (on the event loop: no thread)."""
    limit, key = settings.AICMO_MAX_CONCURRENT_STREAMS, f"{PREFIX}stream:{user.pk}"
    try:
        taken = await _aeval(_ACQUIRE, key, limit, int(hold_s * 1000))
    except Exception as error:
        taken = _unavailable(key, error)
    _refuse_if_full(taken, "stream", limit=limit, retry_after_s=5)
    return SlotHeldStream(events, key if taken != -1 else None)
