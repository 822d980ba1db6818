"""How a reply travels from the Celery worker that writes it to the `POST /chatkit` response that streams it.

One Redis Stream per reply (`aicmo:studio:reply:<key>`): the worker XADDs each ChatKit `ThreadStreamEvent` as
JSON, in an envelope numbering the task's delivery and the entry (replay.py: what a reader passes on), and
ends with an `end` entry; the web side XREAD-BLOCKs on it (redis.asyncio: an open stream holds no
thread) and yields the events. A reader that starts late (a reconnect) reads from the first entry, so it gets the
whole reply; the worker also saves every finished item in the database before announcing it, so a page that
reloads after the stream expired still shows the answer. Redis only: there is no database transport.
"""

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

from . import replay

logger = logging.getLogger(__name__)

STREAM_TTL_S = 3600  # a reply's stream outlives its last entry by this much
BLOCK_MS = 5000
MAX_READERS = 10_000  # Redis connections a web process may hold: one per open stream (redis-py's default is 100)
IDLE_LIMIT_S = 600  # a reader gives up after this long without an entry (the worker died without an `end`)


class RelayUnavailable(Exception):
    """Redis cannot be reached: the studio cannot stream."""


def stream_key(reply_key: str) -> str:
    return f"aicmo:studio:reply:{reply_key}"


def _url() -> str:
    url = settings.REDIS_URL
    if not url:
        raise RelayUnavailable("The studio streams replies through Redis: set REDIS_URL.")
    return url


# --- the worker's side (sync) -------------------------------------------------------------------------------

_sync_clients: dict[str, redis.Redis] = {}


def _sync_client() -> redis.Redis:
    url = _url()
    if url not in _sync_clients:
        _sync_clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    return _sync_clients[url]


class ReplyPublisher:
    """Appends a reply's events to its stream. If Redis fails mid-reply the reply still completes and is saved
    (the reader then ends with an error event and the page reloads the saved items)."""

    def __init__(self, reply_key: str, attempt: int = 1):
        self.key = stream_key(reply_key)
        self.attempt = attempt  # the delivery of the reply's task writing this
        self.seq = 0
        self.broken = False

    def _add(self, fields: dict[str, str]) -> None:
        if self.broken:
            return
        try:
            pipe = _sync_client().pipeline(transaction=False)
            pipe.xadd(self.key, fields)
            pipe.expire(self.key, STREAM_TTL_S)
            pipe.execute()
        except (redis.RedisError, RelayUnavailable) as error:
            self.broken = True
            logger.warning("studio stream unavailable", extra={"key": self.key, "error": type(error).__name__})

    def event(self, event: Any) -> None:
        """`event` is a ChatKit ThreadStreamEvent (a pydantic model)."""
        self.seq += 1
        self._add({"event": replay.wrap(attempt=self.attempt, seq=self.seq, event=event)})

    def reset(self, kept: list[str]) -> None:
        """A redelivered task starts again: `kept` are the ids of the turn's items already saved."""
        self.seq += 1
        self._add({"event": replay.wrap(attempt=self.attempt, seq=self.seq, kept=kept)})

    def end(self) -> None:
        self._add({"end": "1"})


# --- the web side (async) -----------------------------------------------------------------------------------

_async_clients: dict[tuple[str, int], aioredis.Redis] = {}


def _async_client() -> aioredis.Redis:
    """One pool per URL and event loop (a pool's connections belong to the loop that opened them)."""
    import asyncio

    url = _url()
    key = (url, id(asyncio.get_running_loop()))
    if key not in _async_clients:
        _async_clients[key] = aioredis.Redis.from_url(
            url, socket_timeout=BLOCK_MS / 1000 + 5, socket_connect_timeout=3, max_connections=MAX_READERS
        )
    return _async_clients[key]


async def reply_entries(reply_key: str, *, after: str = "0-0") -> AsyncIterator[dict[str, Any]]:
    """The reply's events (as JSON dicts) from the entry after `after` to its end."""
    client = _async_client()
    key = stream_key(reply_key)
    cursor = after
    idle = 0.0
    while True:
        try:
            answer = await client.xread({key: cursor}, count=200, block=BLOCK_MS)
        except redis.RedisError as error:
            logger.warning("studio stream unreadable", extra={"key": key, "error": repr(error)[:300]})
            raise RelayUnavailable(f"Redis: {type(error).__name__}") from error
        if not answer:
            idle += BLOCK_MS / 1000
            if idle >= IDLE_LIMIT_S:
                return
            continue
        idle = 0.0
        for entry_id, fields in answer[0][1]:
            cursor = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            if b"end" in fields:
                return
            yield json.loads(fields[b"event"])


async def reply_exists(reply_key: str) -> bool:
    try:
        return bool(await _async_client().exists(stream_key(reply_key)))
    except redis.RedisError as error:
        raise RelayUnavailable(f"Redis: {type(error).__name__}") from error
