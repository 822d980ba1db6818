"""Waiting for a run (or a rewrite) to end without holding a thread or polling the database per request
(contract §5: generate and rewrite "wait", `GET /runs/<id>?wait=`, `GET /rewrites/<id>?wait=`).

The worker that settles a run (`run_finalize`) publishes its run id on one Redis channel once the settlement has
committed. Each web process keeps, per event loop, one subscriber on that channel and a table of the requests
waiting on each run: a message wakes that run's waiters. An open wait is a suspended coroutine and a dictionary
entry, nothing more.

A published message can be missed (Redis restarted, the worker died between commit and publish), so the same
subscriber re-checks every waiting run in *one* query every `RECHECK_S` seconds: slow, and per process, not per
request. Without Redis (`REDIS_URL` empty, e.g. unit tests) or while it is unreachable, that one query runs every
`POLL_S` seconds instead: the same answers, a little later.

Rewrites work the same way on a channel of their own (`rewrite_ended_publish` when a rewrite ends, done or
failed): one `Waiters` per kind and event loop.
"""

import asyncio
import contextvars
import logging
import time
import weakref
from uuid import UUID

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from aicmo.core.redis_clients import async_client, sync_client

from .models import Rewrite, Run

logger = logging.getLogger(__name__)

SETTLED_CHANNEL = "aicmo:runs:settled"
REWRITE_ENDED_CHANNEL = "aicmo:rewrites:ended"
RECHECK_S = 5.0  # with Redis: the safety re-check of every waiting run (a missed message costs at most this)
POLL_S = 0.5  # without Redis: how often the waiting runs are read
RECONNECT_S = 2.0  # after a Redis error, poll this long before subscribing again


def _publish(channel: str, key: UUID | str) -> None:
    url = settings.REDIS_URL
    if not url:
        return
    try:
        sync_client(url, socket_timeout=2, socket_connect_timeout=2).publish(channel, str(key))
    except (redis.RedisError, OSError) as error:
        logger.warning("end not announced", extra={"channel": channel, "key": str(key), "error": str(error)[:200]})


def run_settled_publish(run_id: UUID | str) -> None:
    """Announce that a run has ended (call after the commit). Never raises: waiters re-check on their own."""
    _publish(SETTLED_CHANNEL, run_id)


def rewrite_ended_publish(rewrite_id: UUID | str) -> None:
    """Announce that a rewrite has ended, done or failed (call after the commit). Never raises."""
    _publish(REWRITE_ENDED_CHANNEL, rewrite_id)


def _ended(read) -> set[str]:
    # Runs on a thread of the loop's pool, not a request's thread: close a connection that is too old or broken
    # before and after (what Django does around a request, and Celery around a task).
    close_old_connections()
    try:
        return {str(key) for key in read()}
    finally:
        close_old_connections()  # with CONN_MAX_AGE 0 (SQLite, tests): closed, as after a request


def _ended_among(run_ids: list[str]) -> set[str]:
    in_flight = (Run.Status.PENDING, Run.Status.RUNNING)
    return _ended(
        lambda: Run.objects.filter(run_id__in=run_ids).exclude(status__in=in_flight).values_list("run_id", flat=True)
    )


def _rewrites_ended_among(rewrite_ids: list[str]) -> set[str]:
    in_flight = (Rewrite.Status.PENDING, Rewrite.Status.RUNNING)
    return _ended(
        lambda: Rewrite.objects.filter(pk__in=rewrite_ids).exclude(status__in=in_flight).values_list("pk", flat=True)
    )


ended_among = sync_to_async(_ended_among, thread_sensitive=False)
rewrites_ended_among = sync_to_async(_rewrites_ended_among, thread_sensitive=False)


class Waiters:
    """The waiters of one kind (runs, rewrites) in one event loop, and the one task that wakes them (it stops when
    nobody waits): `channel` announces ends, `ended_among` reads which of the waited-for ids have ended."""

    def __init__(self, channel: str, ended_among) -> None:
        self.channel = channel
        self.ended_among = ended_among
        self.waiting: dict[str, set[asyncio.Future]] = {}
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()  # set once a message published from now on will be seen (or we poll)

    def add(self, run_id: str) -> tuple[asyncio.Future, asyncio.Event]:
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(run_id, set()).add(future)
        if self.task is None:
            self.ready = asyncio.Event()
            # A context of its own: it outlives the request that starts it (and that request's thread).
            self.task = asyncio.create_task(
                self._listen(self.ready), name="aicmo-run-waiters", context=contextvars.Context()
            )
        return future, self.ready

    def discard(self, run_id: str, future: asyncio.Future) -> None:
        futures = self.waiting.get(run_id)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self.waiting[run_id]

    def wake(self, run_ids) -> None:
        for run_id in run_ids:
            for future in self.waiting.pop(run_id, ()):
                if not future.done():
                    future.set_result(None)

    async def recheck(self) -> None:
        if self.waiting:
            self.wake(await self.ended_among(list(self.waiting)))

    def _done(self) -> bool:
        """Nobody waits: this task ends, and the next waiter starts a new one (decided without an await, so a
        waiter that arrives meanwhile is never left to a task that is going away)."""
        if self.waiting:
            return False
        self.task = None
        return True

    async def _listen(self, ready: asyncio.Event) -> None:
        try:
            while not self._done():
                if settings.REDIS_URL:
                    try:
                        await self._subscribed(ready)
                        return
                    except (redis.RedisError, OSError) as error:
                        logger.warning("run notifications unavailable, polling", extra={"error": str(error)[:200]})
                await self._poll(ready, seconds=RECONNECT_S if settings.REDIS_URL else None)
        except asyncio.CancelledError:
            self.task = None
            raise
        except Exception:  # never leave waiters to a dead task: they time out to 202 and the client polls
            logger.exception("run waiters failed")
            self.task = None

    async def _poll(self, ready: asyncio.Event, *, seconds: float | None) -> None:
        """Read the waiting runs every POLL_S (for `seconds`, then the caller tries Redis again)."""
        ready.set()
        until = None if seconds is None else time.monotonic() + seconds
        while not self._done():
            await self.recheck()
            if until is not None and time.monotonic() >= until:
                return
            await asyncio.sleep(POLL_S)

    async def _subscribed(self, ready: asyncio.Event) -> None:
        pubsub = async_client(settings.REDIS_URL, socket_connect_timeout=3).pubsub(ignore_subscribe_messages=False)
        try:
            await pubsub.subscribe(self.channel)
            while True:  # the confirmation: from here on no publication is missed
                message = await pubsub.get_message(timeout=3)
                if message is None:
                    raise redis.TimeoutError("no subscription confirmation")
                if message["type"] == "subscribe":
                    break
            ready.set()
            await self.recheck()  # whatever ended before the subscription took effect
            last_check = time.monotonic()
            while not self._done():
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "message":
                    self.wake([message["data"].decode()])
                if time.monotonic() - last_check >= RECHECK_S:
                    await self.recheck()
                    last_check = time.monotonic()
        finally:
            try:
                await pubsub.aclose()  # its connection goes back to the loop's pool
            except (redis.RedisError, OSError):
                pass


# Per kind: the event loop's waiters (each loop has its own: futures and pub/sub connections belong to a loop).
_KINDS = {"run": (SETTLED_CHANNEL, ended_among), "rewrite": (REWRITE_ENDED_CHANNEL, rewrites_ended_among)}
_loops: dict[str, "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Waiters]"] = {
    kind: weakref.WeakKeyDictionary() for kind in _KINDS
}


def _waiters(kind: str) -> Waiters:
    loop = asyncio.get_running_loop()
    loops = _loops[kind]
    if loop not in loops:
        loops[loop] = Waiters(*_KINDS[kind])
    return loops[loop]


async def _wait(kind: str, key: str, seconds: float) -> None:
    if seconds <= 0:
        return
    waiters = _waiters(kind)
    future, ready = waiters.add(key)
    try:
        async with asyncio.timeout(seconds):
            await ready.wait()
            if await waiters.ended_among([key]):
                return
            await future
    except TimeoutError:
        return
    finally:
        waiters.discard(key, future)


async def run_wait_async(run_id: UUID | str, seconds: float) -> None:
    """Return once the run has ended or `seconds` have passed (the caller re-reads the run either way)."""
    await _wait("run", str(run_id), seconds)


async def rewrite_wait_async(rewrite_id: UUID | str, seconds: float) -> None:
    """Return once the rewrite has ended (done or failed) or `seconds` have passed (the caller re-reads it)."""
    await _wait("rewrite", str(rewrite_id), seconds)
