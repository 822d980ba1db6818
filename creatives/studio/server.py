"""The studio's ChatKit server (web side): the official `openai-chatkit` protocol over the Django store.

`respond()` does not call a model: it claims the thread, queues the reply for a Celery worker (assistant.py runs
the ad-concept assistant through the provider chain) and relays the worker's ChatKit events from Redis. After a
client tool's output (`switch_theme`) there is nothing more to say, as in the seed. A client that lost its
stream sends the custom action `studio.resume` (payload `{"have": [ids of the items it already shows]}`) and gets
the reply in flight replayed from its first event, less those items. Every relayed stream goes through a
`Replay` (replay.py): each event once, and a redelivered reply's restart understood."""

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    Action,
    ChatKitReq,
    HiddenContextItem,
    SDKHiddenContextItem,
    StreamOptions,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)
from pydantic import TypeAdapter

from aicmo.core.errors import ApplicationError

from ..models import StudioThread
from .db import run_db
from .relay import RelayUnavailable, reply_entries, reply_exists
from .replay import Replay, have_from
from .services import reply_start
from .store import DjangoStore, StudioAttachments, StudioContext

logger = logging.getLogger(__name__)

EVENT = TypeAdapter(ThreadStreamEvent)
HIDDEN_ITEMS = (HiddenContextItem, SDKHiddenContextItem)  # never sent to the client (ChatKitServer._process_events)
REQUEST = TypeAdapter(ChatKitReq)  # built once: the union of every request takes about 18 ms of CPU to build
RESUME_ACTION = "studio.resume"


class StudioChatKitServer(ChatKitServer[StudioContext]):
    def __init__(self):
        super().__init__(store=DjangoStore(), attachment_store=StudioAttachments())

    async def process(self, request: str | bytes | bytearray, context: StudioContext):
        """The library's `process`, with the request parser built once (the library builds a new one for every
        request: a quarter of the web process's CPU while a thousand streams opened)."""
        return await self.process_parsed(REQUEST.validate_json(request), context)

    async def process_parsed(self, request: ChatKitReq, context: StudioContext):
        """A request the view has parsed already: routed as the library's `process` routes it."""
        if is_streaming_req(request):
            return StreamingResult(_in_bursts(self._process_streaming(request, context), context))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    def get_stream_options(self, thread: ThreadMetadata, context: StudioContext) -> StreamOptions:
        return StreamOptions(allow_cancel=False)  # the worker finishes the reply whatever the connection does

    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: StudioContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        if input_user_message is None:  # a client tool's output arrived: the turn is over
            return
        try:
            reply_key = await run_db(
                reply_start,
                user=context.user,
                thread_id=thread.id,
                user_item_id=input_user_message.id,
                trace_id=context.trace_id,
            )
        except ApplicationError as error:
            raise CustomStreamError(error.message, allow_retry=False) from None
        async for event in _relay(reply_key, context):
            yield event

    async def action(
        self, thread: ThreadMetadata, action: Action[str, Any], sender: WidgetItem | None, context: StudioContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        if action.type != RESUME_ACTION:
            raise CustomStreamError(f"Unknown action {action.type!r}.", allow_retry=False)
        reply_key = await run_db(
            lambda: StudioThread.objects.filter(pk=thread.id).values_list("reply_key", flat=True).first()
        )
        if not reply_key:
            return  # nothing in flight: the saved items are the whole conversation
        try:
            if not await reply_exists(reply_key):
                return
        except RelayUnavailable:
            raise CustomStreamError("The live stream is unavailable; reload to see the reply.") from None
        async for event in _relay(reply_key, context, have=have_from(action.payload) or ()):
            yield event

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[ThreadItem], context: StudioContext
    ) -> None:
        # A dropped connection is not a cancellation: the worker goes on and saves the whole reply, so nothing
        # partial is saved here (the library's default would save the half-streamed text).
        return None


async def _relay(reply_key: str, context: StudioContext, have=()) -> AsyncIterator[ThreadStreamEvent]:
    replay = Replay(have)
    try:
        async for burst in reply_entries(reply_key):
            events = [event for data in burst for event in replay.feed(data)]
            last = _last_sent(events)
            for index, event in enumerate(events):
                if isinstance(event, ThreadItemDoneEvent):
                    # The worker saved this item before announcing it: the library's save of it here is skipped
                    # (DjangoStore.add_thread_item), one writer per item.
                    context.saved_by_worker.add(event.item.id)
                context.burst_continues = index < last
                yield event
    except RelayUnavailable:
        raise CustomStreamError("The live stream is unavailable; reload to see the reply.") from None
    finally:
        context.burst_continues = False


def _last_sent(events: list) -> int:
    """The index of the last of `events` the library passes on to the client: it swallows a hidden context item's
    done event (a tool round's record), which must not be the one that would end the burst."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if not (isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, HIDDEN_ITEMS)):
            return index
    return -1


async def _in_bursts(chunks: AsyncGenerator[bytes, None], context: StudioContext) -> AsyncIterator[bytes]:
    """The response's chunks (one per event), those of one relayed burst joined: one socket write, and one wake-up
    of the client, per burst instead of per event. Nothing waits for more than what has arrived."""
    held: list[bytes] = []
    async with aclosing(chunks):
        async for chunk in chunks:
            held.append(chunk)
            if not context.burst_continues:
                yield b"".join(held)
                held = []
    if held:
        yield b"".join(held)


_server: StudioChatKitServer | None = None


def studio_server() -> StudioChatKitServer:
    global _server
    if _server is None:
        _server = StudioChatKitServer()
    return _server
