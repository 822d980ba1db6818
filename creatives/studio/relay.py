"""How a reply travels from the Celery worker that writes it to the `POST /chatkit` response that streams it.

One Redis Stream per reply (`aicmo:studio:reply:<key>`) holds the whole reply: the worker XADDs each ChatKit
`ThreadStreamEvent` as JSON, in an envelope numbering the task's delivery and the entry (replay.py: what a reader
passes on), and ends with an `end` entry. In the same step (one Lua script, so nothing can come
between) it PUBLISHes the entry on the reply's channel (`aicmo:studio:live:<key>`).

The web side reads live entries from the channel and the past ones from the stream. Each web process keeps, per
event loop, **one** pub/sub connection (`ReplyListener`), subscribed to the channel of every reply streaming
through it, and hands each message to that reply's reader (an asyncio queue): a thousand open streams are a
thousand queues and one connection, not a thousand blocked XREADs. A reader subscribes first, then reads what
the stream already holds (XRANGE), then takes the channel's messages, skipping entries it has seen (stream ids
only grow). So a reader that starts late (a reconnect) gets the whole reply, and one that starts early misses
nothing. A published message can be lost (the subscriber reconnected); a reader that heard nothing for
`RECHECK_S` is told by the listener to read the stream from where it stands.

The worker also saves every finished item in the database before announcing it, so a page that reloads after
the stream expired still shows the answer. Redis only: there is no database transport.
"""

import asyncio
import contextvars
import json
import logging
import os
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import hiredis
import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.connection import SSLConnection, parse_url

from aicmo.core.redis_clients import async_client, sync_client

from . import replay

logger = logging.getLogger(__name__)

STREAM_TTL_S = 3600  # a reply's stream outlives its last entry by this much
RECHECK_S = 15.0  # a reader that heard nothing for this long reads the stream itself (a lost message)
SWEEP_S = 1.0  # how often the listener looks for such readers (each is due on its own schedule: no burst)
IDLE_LIMIT_S = 600  # a reader gives up after this long without an entry (the worker died without an `end`)
SUBSCRIBE_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 3.0  # to open, authenticate and name the pub/sub connection
READ_POOL_SIZE = 50  # connections per event loop for the readers' XRANGE (they queue for one when all are busy:
# a busy pool is load, not an outage, so the wait has no limit; a Redis that is down fails the command itself)

# XADD the entry, renew the stream's expiry, PUBLISH "<entry id>\n<field>\n<value>" on the reply's channel.
APPEND_SCRIPT = """
local id = redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[1] .. '\\n' .. ARGV[2])
return id
"""


class RelayUnavailable(Exception):
    """Redis cannot be reached: the studio cannot stream."""


def stream_key(reply_key: str) -> str:
    return f"aicmo:studio:reply:{reply_key}"


def channel_name(reply_key: str) -> str:
    return f"aicmo:studio:live:{reply_key}"


def append_args(reply_key: str, field: str, value: str) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of APPEND_SCRIPT for one entry (the worker's publisher, and the benchmark's)."""
    return [stream_key(reply_key), channel_name(reply_key)], [field, value, STREAM_TTL_S]


def _url() -> str:
    url = settings.REDIS_URL
    if not url:
        raise RelayUnavailable("The studio streams replies through Redis: set REDIS_URL.")
    return url


# --- the worker's side (sync) -------------------------------------------------------------------------------

_sync_clients: dict[str, tuple[redis.Redis, Any]] = {}


def _sync_append():
    url = _url()
    if url not in _sync_clients:
        client = sync_client(url, socket_timeout=5, socket_connect_timeout=3)
        _sync_clients[url] = (client, client.register_script(APPEND_SCRIPT))
    return _sync_clients[url][1]


class ReplyPublisher:
    """Appends a reply's events to its stream (and its channel). If Redis fails mid-reply the reply still completes
    and is saved (the reader then ends with an error event and the page reloads the saved items)."""

    def __init__(self, reply_key: str, attempt: int = 1):
        self.reply_key = reply_key
        self.key = stream_key(reply_key)
        self.attempt = attempt  # the delivery of the reply's task writing this
        self.seq = 0
        self.broken = False

    def _add(self, field: str, value: str) -> None:
        if self.broken:
            return
        try:
            keys, args = append_args(self.reply_key, field, value)
            _sync_append()(keys=keys, args=args)
        except (redis.RedisError, RelayUnavailable) as error:
            self.broken = True
            logger.warning("studio stream unavailable", extra={"key": self.key, "error": type(error).__name__})

    def entry(self, event: Any = None, *, kept: list[str] | tuple[str, ...] = ()) -> str:
        """The next numbered entry of this delivery (replay.wrap): `event`, or without one a reset listing `kept`.
        The benchmark's publisher numbers its entries here too, so both write what the readers expect."""
        self.seq += 1
        return replay.wrap(attempt=self.attempt, seq=self.seq, event=event, kept=kept)

    def event(self, event: Any) -> None:
        """`event` is a ChatKit ThreadStreamEvent (a pydantic model)."""
        self._add("event", self.entry(event))

    def reset(self, kept: list[str]) -> None:
        """A redelivered task starts again: `kept` are the ids of the turn's items already saved."""
        self._add("event", self.entry(kept=kept))

    def end(self) -> None:
        self._add("end", "1")


# --- the web side (async) -----------------------------------------------------------------------------------


def connection_name(pid: int) -> str:
    """What a web process's relay connections call themselves (CLIENT LIST tells whose they are)."""
    return f"aicmo-studio-relay:{pid}"


def _async_client() -> aioredis.Redis:
    return async_client(
        _url(),
        max_connections=READ_POOL_SIZE,
        socket_timeout=5,
        socket_connect_timeout=3,
        client_name=connection_name(os.getpid()),
    )


_RESYNC = object()  # a queue item: read the stream yourself (the listener may have missed messages)


def _command(*parts: bytes | str) -> bytes:
    """One command in the Redis protocol (RESP)."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Subscriber(asyncio.Protocol):
    """A listener's pub/sub connection (RESP2). Each chunk read from the socket is parsed by hiredis and its
    messages handed to the listener in the same callback: no coroutine, timeout or dict per message (redis-py's
    PubSub cost about a sixth of the web process's CPU with 1,000 streams flowing)."""

    def __init__(self, listener: "ReplyListener"):
        self.listener = listener
        self.parser = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.replies: deque[asyncio.Future] = deque()  # the handshake's commands, answered in order

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, *parts: bytes | str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_command(*parts))

    async def ask(self, *parts: bytes | str):
        """A command answered before any subscription (AUTH, CLIENT SETNAME): its reply, or RelayUnavailable."""
        reply = asyncio.get_running_loop().create_future()
        self.replies.append(reply)
        self.send(*parts)
        return await reply

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        try:
            while (reply := self.parser.gets()) is not False:
                if isinstance(reply, list) and reply and reply[0] in _PUSHED:
                    self.listener.received(self, reply)
                elif self.replies:
                    answer = self.replies.popleft()
                    if isinstance(reply, hiredis.ReplyError):
                        answer.set_exception(RelayUnavailable(f"Redis: {reply}"))
                    else:
                        answer.set_result(reply)
                elif isinstance(reply, hiredis.ReplyError):  # e.g. a SUBSCRIBE the server's ACL refuses
                    logger.warning("studio replies subscription refused", extra={"error": str(reply)[:300]})
        except hiredis.ProtocolError as error:
            logger.warning("studio replies connection unreadable", extra={"error": repr(error)[:300]})
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        lost = ConnectionError(f"the connection to Redis was lost: {exc!r}" if exc else "Redis closed the connection")
        for answer in self.replies:
            if not answer.done():
                answer.set_exception(lost)
        self.replies.clear()
        self.listener.lost(self, lost)


_PUSHED = (b"message", b"subscribe", b"unsubscribe")  # what Redis sends a subscriber unasked (or as a confirmation)


def _ssl_options(options: dict) -> dict:
    """The URL's TLS options (certificate checks, CA, client certificate) as redis-py's SSLConnection takes them."""
    return {key: value for key, value in options.items() if key.startswith("ssl_")}


async def _subscriber(listener: "ReplyListener") -> _Subscriber:
    """A new pub/sub connection to REDIS_URL (TCP, TLS or a Unix socket), authenticated and named."""
    options = parse_url(_url())
    loop = asyncio.get_running_loop()
    subscriber = _Subscriber(listener)
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        if "path" in options:
            await loop.create_unix_connection(lambda: subscriber, options["path"])
        else:
            tls = None
            if options.get("connection_class") is SSLConnection:
                tls = SSLConnection(**_ssl_options(options)).ssl_context.get()  # verified as redis-py's own
            await loop.create_connection(lambda: subscriber, options["host"], options.get("port", 6379), ssl=tls)
        try:
            if options.get("password"):
                credentials = [options["username"]] if options.get("username") else []
                await subscriber.ask("AUTH", *credentials, options["password"])
            await subscriber.ask("CLIENT", "SETNAME", connection_name(os.getpid()))
        except BaseException:
            subscriber.transport.close()
            raise
    return subscriber


class ReplyListener:
    """One event loop's pub/sub connection and the readers it feeds. It is opened by the first reader and closed
    once the last one has gone. Subscribing and unsubscribing are writes on it, answered in order."""

    def __init__(self) -> None:
        self.readers: dict[bytes, set[asyncio.Queue]] = {}
        self.confirmed: dict[bytes, asyncio.Event] = {}
        self.heard: dict[bytes, float] = {}  # when each channel last had a message (or its first reader came)
        self.subscriber: _Subscriber | None = None
        self.opening: asyncio.Task | None = None
        self.sweep: asyncio.TimerHandle | None = None

    async def add(self, channel: bytes) -> asyncio.Queue:
        """A queue of the channel's messages from now on (returns once Redis has confirmed the subscription)."""
        queue: asyncio.Queue = asyncio.Queue()
        first = channel not in self.readers
        self.readers.setdefault(channel, set()).add(queue)
        try:
            if not first:
                confirmed = self.confirmed.get(channel)
                if confirmed is not None:
                    await self._confirmation(channel, confirmed, queue)
                return queue
            confirmed = self.confirmed[channel] = asyncio.Event()
            self.heard[channel] = asyncio.get_running_loop().time()
            subscriber = await self._subscriber()
            if channel in self.readers:
                subscriber.send(b"SUBSCRIBE", channel)
            await self._confirmation(channel, confirmed, queue)
            return queue
        except (RelayUnavailable, redis.RedisError, OSError, TimeoutError) as error:
            self.discard(channel, queue)
            if isinstance(error, RelayUnavailable):
                raise
            raise RelayUnavailable(f"Redis: {type(error).__name__}") from error
        except BaseException:  # cancelled (the client went away) while subscribing: not left as a reader
            self.discard(channel, queue)
            raise

    async def _subscriber(self) -> _Subscriber:
        if self.subscriber is not None:
            return self.subscriber
        if self.opening is None:
            # A context of its own: the connection outlives the request that opens it.
            self.opening = asyncio.create_task(self._open(), context=contextvars.Context())
        return await asyncio.shield(self.opening)

    async def _open(self) -> _Subscriber:
        try:
            subscriber = await _subscriber(self)
        except BaseException as error:
            self._fail(error)  # the readers that came meanwhile end too
            raise
        finally:
            self.opening = None
        if not self.readers:  # every reader left while it opened
            subscriber.transport.close()
            return subscriber
        self.subscriber = subscriber
        self.sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)
        return subscriber

    async def _confirmation(self, channel: bytes, confirmed: asyncio.Event, queue: asyncio.Queue) -> None:
        """Wait for Redis to confirm the subscription. A confirmation that is late (an overloaded event loop has
        not read it yet) is not an error: the listener tells the reader to read the stream after RECHECK_S of
        silence."""
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                await confirmed.wait()
        except TimeoutError:
            logger.warning("studio reply subscription not confirmed in time", extra={"channel": channel.decode()})

    def discard(self, channel: bytes, queue: asyncio.Queue) -> None:
        queues = self.readers.get(channel)
        if queues is None:
            return
        queues.discard(queue)
        if queues:
            return
        del self.readers[channel]
        self.confirmed.pop(channel, None)
        self.heard.pop(channel, None)
        subscriber = self.subscriber
        if subscriber is None:
            return
        if self.readers:
            subscriber.send(b"UNSUBSCRIBE", channel)
        else:  # the last reader gone: closing the connection ends its subscriptions
            self._forget(subscriber)
            subscriber.transport.close()

    def received(self, subscriber: _Subscriber, reply: list) -> None:
        """A message (or a confirmation) read on `subscriber`."""
        if subscriber is not self.subscriber:
            return
        kind, channel = reply[0], reply[1]
        if kind == b"message":
            self.heard[channel] = asyncio.get_running_loop().time()
            for queue in self.readers.get(channel, ()):
                queue.put_nowait(reply[2])
        elif kind == b"subscribe":
            confirmed = self.confirmed.get(channel)
            if confirmed is not None:
                confirmed.set()

    def lost(self, subscriber: _Subscriber, error: Exception) -> None:
        """`subscriber`'s connection broke: every reader ends with RelayUnavailable."""
        if subscriber is not self.subscriber:
            return  # one this listener closed itself
        logger.warning("studio replies listener failed", extra={"error": repr(error)[:300]})
        self._forget(subscriber)
        self._fail(error)

    def _forget(self, subscriber: _Subscriber) -> None:
        if self.subscriber is subscriber:
            self.subscriber = None
        if self.sweep is not None:
            self.sweep.cancel()
            self.sweep = None

    def _fail(self, error: BaseException) -> None:
        for queues in self.readers.values():
            for queue in queues:
                queue.put_nowait(error)
        for confirmed in self.confirmed.values():  # nobody waits for a confirmation that cannot come
            confirmed.set()
        self.confirmed.clear()

    def _sweep(self) -> None:
        self._resync_quiet(asyncio.get_running_loop().time())
        if self.subscriber is not None:
            self.sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)

    def _resync_quiet(self, now: float) -> None:
        """Tell the readers of each channel silent for RECHECK_S to read its stream (a message may be lost): a
        sweep every SWEEP_S instead of a timer per reader and per message. Each channel is due RECHECK_S after its
        own last message, so readers that opened at different times do not all read their streams at once."""
        for channel, queues in self.readers.items():
            if now - self.heard.get(channel, now) >= RECHECK_S:
                self.heard[channel] = now
                for queue in queues:
                    queue.put_nowait(_RESYNC)


_listeners: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReplyListener]" = weakref.WeakKeyDictionary()


def _listener() -> ReplyListener:
    loop = asyncio.get_running_loop()
    listener = _listeners.get(loop)
    if listener is None:
        listener = _listeners[loop] = ReplyListener()
    return listener


def _entry_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def _stream_after(key: str, cursor: tuple[int, int]) -> list[tuple[tuple[int, int], bytes, bytes]]:
    try:
        entries = await _async_client().xrange(key, min=f"({cursor[0]}-{cursor[1]}", max="+")
    except redis.RedisError as error:
        logger.warning("studio stream unreadable", extra={"key": key, "error": repr(error)[:300]})
        raise RelayUnavailable(f"Redis: {type(error).__name__}") from error
    out = []
    for entry_id, fields in entries:
        field, value = next(iter(fields.items()))
        out.append((_entry_id(entry_id), field, value))
    return out


async def reply_bursts_json(reply_key: str, *, after: str = "0-0") -> AsyncIterator[list[bytes]]:
    """The reply's events (each one JSON document) from the entry after `after` to its end, in bursts: a burst is
    what had arrived when the reader looked (one event, or several when the event loop was busy), so that the
    response can write it at once."""
    listener, key = _listener(), stream_key(reply_key)
    channel = channel_name(reply_key).encode()
    queue = await listener.add(channel)
    cursor = _entry_id(after)
    try:
        pending = await _stream_after(key, cursor)  # what was written before the subscription took effect
        quiet, failed = 0.0, None
        while True:
            burst = []
            for entry_id, field, value in pending:
                if entry_id <= cursor:
                    continue  # read from the stream already
                cursor = entry_id
                if field == b"end":
                    if burst:
                        yield burst
                    return
                burst.append(value)
            if burst:
                yield burst
            if failed is not None:
                raise RelayUnavailable(f"Redis: {type(failed).__name__}")
            # Messages, an error, or the listener's _RESYNC after RECHECK_S of silence: all that is queued.
            items = [await queue.get()]
            while not queue.empty():
                items.append(queue.get_nowait())
            failed = next((item for item in items if isinstance(item, BaseException)), None)
            if failed is not None:
                pending = _messages(items[: items.index(failed)])  # what had arrived before the connection broke
            elif any(item is _RESYNC for item in items):
                pending = await _stream_after(key, cursor)  # every published entry is in the stream already
                quiet = 0.0 if pending else quiet + RECHECK_S
                if quiet >= IDLE_LIMIT_S:
                    return
            else:
                quiet, pending = 0.0, _messages(items)
    finally:
        listener.discard(channel, queue)


def _messages(items: list) -> list[tuple[tuple[int, int], bytes, bytes]]:
    """The channel's messages (b"<entry id>\\n<field>\\n<value>") as stream entries."""
    out = []
    for item in items:
        if item is _RESYNC:
            continue  # queued before an error: the reader is failing, the stream is not read again
        entry_id, field, value = item.split(b"\n", 2)
        out.append((_entry_id(entry_id), field, value))
    return out


async def reply_entries(reply_key: str, *, after: str = "0-0") -> AsyncIterator[list[dict[str, Any]]]:
    """The reply's events (as JSON dicts) from the entry after `after` to its end, in bursts (reply_bursts_json)."""
    async for burst in reply_bursts_json(reply_key, after=after):
        yield [json.loads(value) for value in burst]


async def reply_exists(reply_key: str) -> bool:
    try:
        return bool(await _async_client().exists(stream_key(reply_key)))
    except redis.RedisError as error:
        raise RelayUnavailable(f"Redis: {type(error).__name__}") from error
