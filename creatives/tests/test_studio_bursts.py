"""The studio's response writes each relayed burst as one chunk (server._in_bursts): what arrived together
leaves together, and nothing is held back waiting for more."""

from asgiref.sync import async_to_sync

from creatives.studio.server import _in_bursts
from creatives.studio.store import StudioContext


def test_the_events_of_one_burst_are_joined_and_the_last_burst_is_flushed_when_the_stream_ends():
    context = StudioContext(user=None)
    closed = []

    async def chunks():
        try:
            # (chunk, whether more of its burst follows at once), as _relay marks them
            for chunk, more in [(b"a", True), (b"b", True), (b"c", False), (b"d", False), (b"e", True)]:
                context.burst_continues = more
                yield chunk
        finally:
            closed.append(True)

    async def written():
        return [chunk async for chunk in _in_bursts(chunks(), context)]

    assert async_to_sync(written)() == [b"abc", b"d", b"e"]
    assert closed == [True]


def test_a_response_closed_mid_stream_closes_the_events_under_it():
    context = StudioContext(user=None)
    closed = []

    async def chunks():
        try:
            while True:
                yield b"event"
        finally:
            closed.append(True)

    async def first_then_close():
        stream = _in_bursts(chunks(), context)
        first = await anext(stream)
        await stream.aclose()  # the client went away
        return first

    assert async_to_sync(first_then_close)() == b"event"
    assert closed == [True]


def test_a_burst_ends_on_the_last_event_the_client_is_sent_not_on_a_swallowed_tool_round():
    from datetime import datetime

    from chatkit.types import AssistantMessageItem, HiddenContextItem, ThreadItemDoneEvent

    from creatives.studio.server import _last_sent

    message = AssistantMessageItem(id="m", thread_id="t", created_at=datetime.now(), content=[])
    tool_round = HiddenContextItem(id="h", thread_id="t", created_at=datetime.now(), content={"kind": "tool_round"})
    shown, swallowed = ThreadItemDoneEvent(item=message), ThreadItemDoneEvent(item=tool_round)

    assert _last_sent([shown, swallowed]) == 0  # the library never yields the round's done event
    assert _last_sent([shown, swallowed, shown]) == 2
    assert _last_sent([swallowed]) == -1
