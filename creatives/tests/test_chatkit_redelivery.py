"""A studio reply whose Celery task is delivered again (its worker died mid-answer; acks_late) or whose reader
reconnects: the stream shows every item once and the store holds the answer once.

The first delivery runs in a forked process that is SIGKILLed at a chosen point (no `finally`, no clean-up: the
death a redelivery follows); the second runs the same task with the same arguments, as Celery redelivers it.
The reader is a real `POST /chatkit` stream, parsed with the library's ThreadStreamEvent type."""

import os
import signal
import threading

import pytest
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ItemsListParams,
    ItemsListReq,
    ThreadCustomActionParams,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadsCustomActionReq,
)
from django.db import connection, connections

from creatives.models import StudioItem, StudioThread
from deliverables.models import Deliverable, Revision

from .test_chatkit import add, create

pytestmark = pytest.mark.django_db(transaction=True)

BRIEF = (
    "Product: cold brew concentrate, style: bold and bright, tone: playful, "
    "pitch: cafe-strength coffee at home in ten seconds"
)


def visible(events) -> list[tuple[str, str, str]]:
    """What a ChatKit front end shows once it has applied the events: (item id, type, text) in order."""
    shown: dict[str, list] = {}
    for event in events:
        if isinstance(event, ThreadItemAddedEvent):
            shown[event.item.id] = [event.item.type, ""]
        elif isinstance(event, ThreadItemUpdatedEvent) and event.update.type.endswith("text_delta"):
            shown.setdefault(event.item_id, ["assistant_message", ""])[1] += event.update.delta
        elif isinstance(event, (ThreadItemDoneEvent, ThreadItemReplacedEvent)):
            text = ""
            if isinstance(event.item, AssistantMessageItem):
                text = "\n".join(part.text for part in event.item.content)
            shown[event.item.id] = [event.item.type, text]
        elif isinstance(event, ThreadItemRemovedEvent):
            shown.pop(event.item_id, None)
    return [(item_id, kind, text) for item_id, (kind, text) in shown.items()]


def dies_at(point: str, after: int = 0):
    """A first delivery that is SIGKILLed: `entries` after that many stream entries, `release` just before
    it would release the thread's claim (the whole answer saved)."""
    from aicmo.core import redis_clients
    from creatives import tasks
    from creatives.studio import assistant, relay

    def child(args):
        relay._sync_clients.clear()  # the parent's Redis connections stay the parent's
        redis_clients.forget()
        if point == "entries":
            written = [0]
            real_add = relay.ReplyPublisher._add

            def add_then_die(self, field, value):
                if written[0] >= after:
                    os.kill(os.getpid(), signal.SIGKILL)
                written[0] += 1
                real_add(self, field, value)

            relay.ReplyPublisher._add = add_then_die
        else:
            assistant.reply_release = lambda **kwargs: os.kill(os.getpid(), signal.SIGKILL)
        try:
            tasks.studio_respond.run(*args)
        finally:
            os._exit(0)  # it lived to the end: the test's assertion on the exit status fails

    return child


@pytest.fixture
def redelivered(monkeypatch, worker_threads):
    """`redelivered(child)`: the next queued reply is first run by `child` in a process that dies, then
    delivered again to a worker thread. Returns the exit statuses of the dead deliveries."""
    from creatives import tasks

    statuses: list[int] = []
    errors: list[BaseException] = []

    def arm(child):
        def apply_async(args, **kwargs):
            def deliver_twice():
                try:
                    connections.close_all()
                    pid = os.fork()
                    if pid == 0:
                        child(args)
                    statuses.append(os.waitpid(pid, 0)[1])
                    tasks.studio_respond.run(*args)  # the redelivery
                except BaseException as error:
                    errors.append(error)
                finally:
                    connection.close()

            thread = threading.Thread(target=deliver_twice, daemon=True)
            worker_threads.append(thread)
            thread.start()

        monkeypatch.setattr(tasks.studio_respond, "apply_async", apply_async)
        return statuses

    yield arm
    assert not errors, errors


def turn_items(thread_id):
    return list(StudioItem.objects.filter(thread_id=thread_id).order_by("seq").values_list("type", "data"))


@pytest.mark.parametrize("after", [4, 9])
def test_a_reply_redelivered_mid_answer_streams_once(chatkit_as, marketer, brand, redelivered, after):
    statuses = redelivered(dies_at("entries", after))
    events = chatkit_as(marketer).stream(create("hi"))

    assert [os.WIFSIGNALED(s) and os.WTERMSIG(s) for s in statuses] == [signal.SIGKILL]
    expected = (
        "Hi! I'm your ad-concept assistant for Acme Coffee Roasters. What would you like to promote? "
        "Tell me about the product or service."
    )
    shown = visible(events)
    assert [(kind, text) for _, kind, text in shown] == [("user_message", ""), ("assistant_message", expected)]
    thread_id = events[0].thread.id
    stored = turn_items(thread_id)
    assert [kind for kind, _ in stored] == ["user_message", "assistant_message"]
    assert stored[1][1]["id"] == shown[1][0]  # the item shown is the one stored
    thread = StudioThread.objects.get(pk=thread_id)
    assert (thread.reply_key, thread.reply_attempt) == ("", 2)


def test_a_reply_redelivered_after_its_answer_was_saved_answers_nothing_more(chatkit_as, marketer, brand, redelivered):
    statuses = redelivered(dies_at("release"))
    events = chatkit_as(marketer).stream(create("hi"))

    assert os.WTERMSIG(statuses[0]) == signal.SIGKILL
    assert [kind for _, kind, _ in visible(events)] == ["user_message", "assistant_message"]
    assert len([e for e in events if isinstance(e, ThreadItemAddedEvent)]) == 1  # no second answer started
    assert [kind for kind, _ in turn_items(events[0].thread.id)] == ["user_message", "assistant_message"]
    assert StudioThread.objects.get(pk=events[0].thread.id).reply_key == ""  # the thread is free again


def test_a_redelivered_reply_resumes_after_its_finished_tool_round(
    chatkit_as, marketer, brand, worker_threads, redelivered
):
    """The concept was written and saved (a revision, a widget) when the worker died: the redelivery goes on
    from there (the tool's result is in the store), so the asset is saved once and the concept shown once."""
    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create(BRIEF))[0].thread.id
    from aicmo.core import redis_clients
    from creatives.studio import relay

    widget_written = {"seen": False}
    real_add = relay.ReplyPublisher._add

    def child(args):
        relay._sync_clients.clear()
        redis_clients.forget()

        def add_then_die(self, field, value):
            if widget_written["seen"]:
                os.kill(os.getpid(), signal.SIGKILL)
            real_add(self, field, value)
            if field == "event" and b'"type":"widget"' in value.encode():
                widget_written["seen"] = True

        relay.ReplyPublisher._add = add_then_die
        try:
            from creatives import tasks

            tasks.studio_respond.run(*args)
        finally:
            os._exit(0)

    statuses = redelivered(child)
    events = chatkit.stream(add(thread_id, "yes"))

    assert os.WTERMSIG(statuses[0]) == signal.SIGKILL
    deliverable = Deliverable.objects.get(run__studio_thread__pk=thread_id)
    assert Revision.objects.filter(deliverable=deliverable).count() == 1 and deliverable.version == 1
    shown = visible(events)
    kinds = [kind for _, kind, _ in shown]
    assert kinds == ["user_message", "assistant_message", "widget", "assistant_message"]  # (hidden items: not sent)
    texts = [text for _, kind, text in shown if kind == "assistant_message"]
    assert "**Headline:**" in texts[0] and texts[1].startswith("Saved “")
    stored = [kind for kind, data in turn_items(thread_id)]
    assert stored[-5:] == ["user_message", "assistant_message", "widget", "hidden_context_item", "assistant_message"]
    assert stored.count("widget") == 1


def test_a_reconnect_replays_only_what_the_client_does_not_have(chatkit_as, marketer, brand, worker_threads):
    """studio.resume with the items the page already loaded: their events are not sent again; the reply's
    unfinished item is (from its first event)."""
    from creatives.studio.relay import ReplyPublisher

    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("hi"))[0].thread.id
    thread = StudioThread.objects.get(pk=thread_id)
    StudioThread.objects.filter(pk=thread_id).update(reply_key="k2")
    publisher = ReplyPublisher("k2", attempt=1)
    first = AssistantMessageItem(
        id="msg_first",
        thread_id=thread_id,
        created_at=thread.created_at,
        content=[AssistantMessageContent(text="One.")],
    )
    publisher.event(ThreadItemAddedEvent(item=first.model_copy(update={"content": []})))
    publisher.event(ThreadItemDoneEvent(item=first))
    second = AssistantMessageItem(id="msg_second", thread_id=thread_id, created_at=thread.created_at, content=[])
    publisher.event(ThreadItemAddedEvent(item=second))
    publisher.event(
        ThreadItemDoneEvent(item=second.model_copy(update={"content": [AssistantMessageContent(text="Two.")]}))
    )
    publisher.end()
    _, page = chatkit.call(ItemsListReq(params=ItemsListParams(thread_id=thread_id, limit=100, order="asc")))
    have = [item["id"] for item in page["data"]] + ["msg_first"]

    replay = chatkit.stream(
        ThreadsCustomActionReq(
            params=ThreadCustomActionParams(
                thread_id=thread_id, action={"type": "studio.resume", "payload": {"have": have}}
            )
        )
    )
    assert [(item_id, text) for item_id, _, text in visible(replay)] == [("msg_second", "Two.")]
    status, body = chatkit.call(
        ThreadsCustomActionReq(
            params=ThreadCustomActionParams(
                thread_id=thread_id, action={"type": "studio.resume", "payload": {"have": "msg_first"}}
            )
        )
    )
    assert (status, body["detail"]) == (400, "payload.have must be a list of item ids.")


def test_the_relay_passes_each_entry_once_and_understands_a_restart():
    """Replay on its own: an entry read twice (history, then live) is passed on once; an older delivery's late
    entries are dropped; a restart takes back the unfinished item and keeps the saved one."""
    from creatives.studio.replay import Replay, wrap

    now = "2026-12-02T00:00:00"
    saved = AssistantMessageItem(
        id="msg_a", thread_id="t", created_at=now, content=[AssistantMessageContent(text="Saved.")]
    )
    half = AssistantMessageItem(id="msg_b", thread_id="t", created_at=now, content=[])
    import json

    entries = [
        wrap(attempt=1, seq=1, event=ThreadItemAddedEvent(item=saved.model_copy(update={"content": []}))),
        wrap(attempt=1, seq=2, event=ThreadItemDoneEvent(item=saved)),
        wrap(attempt=1, seq=3, event=ThreadItemAddedEvent(item=half)),
    ]
    replay = Replay()
    passed = [e for entry in entries + entries for e in replay.feed(json.loads(entry))]
    assert [type(e) for e in passed] == [ThreadItemAddedEvent, ThreadItemDoneEvent, ThreadItemAddedEvent]
    restart = [
        wrap(attempt=2, seq=1, kept=["msg_a"]),
        wrap(attempt=2, seq=2, event=ThreadItemDoneEvent(item=saved)),  # announced again: already shown
        wrap(attempt=1, seq=4, event=ThreadItemDoneEvent(item=half)),  # the dead delivery's last words
    ]
    passed = [e for entry in restart for e in replay.feed(json.loads(entry))]
    assert [(type(e), e.item_id) for e in passed] == [(ThreadItemRemovedEvent, "msg_b")]


def test_a_reply_delivered_too_many_times_ends_with_an_error(chatkit_as, marketer, brand, worker_threads, thread):
    """A task that kills its worker every time is not retried forever: past MAX_ATTEMPTS it ends the reply."""
    from creatives import tasks
    from creatives.studio.relay import stream_key
    from creatives.studio.turns import MAX_ATTEMPTS

    StudioThread.objects.filter(pk=thread.pk).update(reply_key="k3", reply_attempt=MAX_ATTEMPTS)
    tasks.studio_respond.run(str(thread.pk), "k3", "msg_none", "trace")

    import redis
    from django.conf import settings

    entries = redis.Redis.from_url(settings.REDIS_URL).xrange(stream_key("k3"))
    assert b"stopped several times" in entries[-2][1][b"event"] and b"end" in entries[-1][1]
    thread.refresh_from_db()
    assert (thread.reply_key, StudioItem.objects.filter(thread=thread).count()) == ("", 0)
