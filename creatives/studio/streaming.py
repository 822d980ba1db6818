"""How a reply travels from the Celery worker that writes it to the browser that reads it (Server-Sent Events).

Two transports, one event vocabulary (`token`, `reset`, `tool`, then `done` or `failed`):

* **Redis** (`REDIS_URL` set): one Redis Stream per reply. The worker XADDs an entry per chunk (and EXPIREs the
  stream an hour after its last entry); the SSE view XREAD-BLOCKs on it. The SSE `id:` is the entry id, so a
  browser that reconnects with `Last-Event-ID` resumes exactly after the last entry it saw.
* **Database** (no Redis: `make run`'s default): the worker appends the text to the StudioMessage row (batched
  every 50 ms) and the view polls the row. The SSE `id:` is `attempt:characters:actions`, so a reconnect resumes
  from a character offset.

Either way the worker saves the final message to the database *before* it announces `done`/`failed`, and the
view falls back to the saved row whenever the live stream has nothing (expired, Redis down, reply long over),
so a dropped connection shows the finished message and nothing is lost.
"""

import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any, Protocol

import redis
from django.conf import settings
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat
from django.urls import reverse

from aicmo.core.markdown import render_markdown

from ..models import StudioMessage

logger = logging.getLogger(__name__)

STREAM_TTL_S = 3600  # a reply's Redis stream outlives its last entry by this much
DB_FLUSH_S = 0.05  # database transport: text is written at most this often (the first chunk at once)
DB_POLL_S = 0.05  # …and read this often
REDIS_BLOCK_MS = 1000
KEEPALIVE_S = 15  # an SSE comment this often keeps proxies from closing a quiet connection
CONNECTION_MAX_S = 300  # then the view ends the response and the browser reconnects (with Last-Event-ID)
RECONNECT_MS = 1000
TERMINAL_EVENTS = ("done", "failed")

_REDIS_ID = re.compile(r"^\d+-\d+$")
_DB_ID = re.compile(r"^(\d+):(\d+):(\d+)$")


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def stream_key(message_id: int) -> str:
    return f"aicmo:studio:reply:{message_id}"


_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    """One connection pool per process and URL. Timeouts above the XREAD block, so a frozen Redis cannot hang a
    worker or a web thread."""
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=REDIS_BLOCK_MS / 1000 + 4, socket_connect_timeout=3)
    return _clients[url]


def final_payload(message: StudioMessage) -> tuple[str, dict[str, Any]]:
    """The `done` or `failed` event of a finished reply, from its saved row."""
    data: dict[str, Any] = {
        "id": message.pk,
        "status": message.status,
        "content": message.content,
        "html": str(render_markdown(message.content)),
        "actions": list(message.actions),
        "error": message.error,
    }
    if message.status == StudioMessage.Status.FAILED:
        data["retry_url"] = reverse("studio-message-retry", args=[message.pk])
    return ("done" if message.status == StudioMessage.Status.COMPLETE else "failed"), data


def frame(event: str, data: Any, event_id: str | None = None) -> str:
    """One SSE event. JSON keeps the data on one line whatever the text holds."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


# --- the worker's side ------------------------------------------------------------------------------------------


class ReplyPublisher(Protocol):
    def reset(self, content: str) -> None: ...  # a new attempt: the text so far is exactly `content`

    def token(self, text: str) -> None: ...

    def tool(self, action: dict[str, Any]) -> None: ...

    def saved(self) -> None: ...  # the row was just rewritten with the whole text so far

    def close(self, message: StudioMessage) -> None: ...  # after the final row is saved


def reply_publisher(message: StudioMessage) -> ReplyPublisher:
    return RedisReplyPublisher(message.pk) if uses_redis() else DatabaseReplyPublisher(message)


class RedisReplyPublisher:
    def __init__(self, message_id: int):
        self.key = stream_key(message_id)
        self.client = redis_client()
        self.broken = False

    def _add(self, event: str, data: Any) -> None:
        if self.broken:  # Redis went away: the reply still completes and is saved; readers fall back to the row
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.xadd(self.key, {"event": event, "data": json.dumps(data, ensure_ascii=False)})
            pipe.expire(self.key, STREAM_TTL_S)
            pipe.execute()
        except redis.RedisError as error:
            self.broken = True
            logger.warning(
                "studio stream unavailable, the reply continues unstreamed",
                extra={"key": self.key, "error": type(error).__name__},
            )

    def reset(self, content: str) -> None:
        self._add("reset", {"content": content})

    def token(self, text: str) -> None:
        self._add("token", {"text": text})

    def tool(self, action: dict[str, Any]) -> None:
        self._add("tool", action)

    def saved(self) -> None:
        pass  # readers follow the stream, not the row

    def close(self, message: StudioMessage) -> None:
        self._add(*final_payload(message))


class DatabaseReplyPublisher:
    def __init__(self, message: StudioMessage):
        self.pk = message.pk
        self.actions = list(message.actions)
        self.buffer: list[str] = []
        self.flushed_at = 0.0

    def _flush(self) -> None:
        if self.buffer:
            StudioMessage.objects.filter(pk=self.pk).update(
                content=Concat(F("content"), Value("".join(self.buffer)), output_field=TextField())
            )
            self.buffer.clear()
        self.flushed_at = time.monotonic()

    def reset(self, content: str) -> None:
        self.buffer.clear()
        StudioMessage.objects.filter(pk=self.pk).update(content=content)

    def token(self, text: str) -> None:
        self.buffer.append(text)
        if time.monotonic() - self.flushed_at >= DB_FLUSH_S:
            self._flush()

    def tool(self, action: dict[str, Any]) -> None:
        self._flush()
        self.actions.append(action)
        StudioMessage.objects.filter(pk=self.pk).update(actions=self.actions)

    def saved(self) -> None:
        self.buffer.clear()  # the saved text already holds these chunks: appending them would repeat them

    def close(self, message: StudioMessage) -> None:
        self.buffer.clear()  # the final row is already saved with the whole text


def stream_discard(message_id: int) -> None:
    """Forget a reply's live stream (before a retry starts a fresh one)."""
    if uses_redis():
        try:
            redis_client().delete(stream_key(message_id))
        except redis.RedisError:
            logger.warning("could not delete a studio stream", extra={"message_id": message_id})


# --- the web side -----------------------------------------------------------------------------------------------


def reply_events(*, message_id: int, last_event_id: str = "") -> Iterator[str]:
    """The SSE body for one reply: from just after `last_event_id` to its `done` or `failed` event."""
    yield f"retry: {RECONNECT_MS}\n\n"
    if uses_redis():
        try:
            yield from _redis_events(message_id, last_event_id)
            return
        except redis.RedisError as error:
            logger.warning(
                "studio stream unreadable, waiting for the saved reply",
                extra={"message_id": message_id, "error": type(error).__name__},
            )
        yield from _saved_reply_events(message_id)
    else:
        yield from _database_events(message_id, last_event_id)


def _load(message_id: int) -> StudioMessage | None:
    return StudioMessage.objects.filter(pk=message_id).first()


def _redis_events(message_id: int, last_event_id: str) -> Iterator[str]:
    client = redis_client()
    key = stream_key(message_id)
    cursor = last_event_id if _REDIS_ID.match(last_event_id or "") else "0-0"
    started = beat = time.monotonic()
    message = _load(message_id)
    if message is None:
        return
    if message.is_terminal and not client.exists(key):  # long over (or never streamed): the saved reply
        yield frame(*final_payload(message), event_id=cursor if cursor != "0-0" else None)
        return
    while True:
        answer = client.xread({key: cursor}, count=500, block=REDIS_BLOCK_MS)
        if answer:
            for entry_id, fields in answer[0][1]:
                cursor = entry_id.decode()
                event = fields[b"event"].decode()
                yield frame(event, json.loads(fields[b"data"]), cursor)
                if event in TERMINAL_EVENTS:
                    return
            continue
        message = _load(message_id)  # quiet for a second: has the reply ended without a final entry?
        if message is None:
            return
        if message.is_terminal:
            yield frame(*final_payload(message), event_id=cursor if cursor != "0-0" else None)
            return
        now = time.monotonic()
        if now - started > CONNECTION_MAX_S:
            return
        if now - beat > KEEPALIVE_S:
            beat = now
            yield ": keep-alive\n\n"


def _database_events(message_id: int, last_event_id: str) -> Iterator[str]:
    match = _DB_ID.match(last_event_id or "")
    attempt, chars, events = (int(match[1]), int(match[2]), int(match[3])) if match else (None, 0, 0)
    started = beat = time.monotonic()
    while True:
        message = _load(message_id)
        if message is None:
            return
        if message.is_terminal:
            event, data = final_payload(message)
            yield frame(event, data, f"{message.attempt}:{len(message.content)}:{len(message.actions)}")
            return
        content, actions = message.content, message.actions
        # A new attempt rewrote the text: start the browser over (unless it holds no text yet).
        if attempt is not None and chars and (message.attempt != attempt or len(content) < chars):
            chars, events = len(content), min(events, len(actions))
            yield frame("reset", {"content": content}, f"{message.attempt}:{chars}:{events}")
        attempt = message.attempt
        if len(content) > chars:
            text, chars = content[chars:], len(content)
            yield frame("token", {"text": text}, f"{attempt}:{chars}:{events}")
        while len(actions) > events:
            events += 1
            yield frame("tool", actions[events - 1], f"{attempt}:{chars}:{events}")
        now = time.monotonic()
        if now - started > CONNECTION_MAX_S:
            return
        if now - beat > KEEPALIVE_S:
            beat = now
            yield ": keep-alive\n\n"
        time.sleep(DB_POLL_S)


def _saved_reply_events(message_id: int) -> Iterator[str]:
    """Without a readable stream: wait for the reply to be saved, then send it whole."""
    started = time.monotonic()
    while time.monotonic() - started < CONNECTION_MAX_S:
        message = _load(message_id)
        if message is None:
            return
        if message.is_terminal:
            yield frame(*final_payload(message))
            return
        time.sleep(0.5)
