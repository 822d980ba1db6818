"""Server-Sent Events of a studio reply: incremental `data:` events, resumed from `Last-Event-ID`, over the
database transport (no Redis) and over Redis Streams; and end to end through a real Celery worker."""

import json
import re

import pytest
import redis
from django.test import Client

from creatives.models import StudioMessage, StudioThread
from creatives.studio import streaming
from creatives.studio.streaming import DatabaseReplyPublisher, RedisReplyPublisher, stream_key

RETRY = b"retry: 1000\n\n"


def sse(event_id: str, event: str, data) -> bytes:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def parse(raw: bytes) -> list[tuple[str, str, dict]]:
    """(id, event, data) of every event in an SSE body."""
    events = []
    for block in raw.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
    return events


@pytest.fixture
def streaming_reply(thread) -> StudioMessage:
    StudioMessage.objects.create(thread=thread, role="user", content="hi")
    return StudioMessage.objects.create(thread=thread, role="assistant", status="streaming", attempt=1, deliveries=1)


def finish(message: StudioMessage, content: str, actions=()) -> None:
    StudioMessage.objects.filter(pk=message.pk).update(status="complete", content=content, actions=list(actions))


# --- the database transport (no Redis) ------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_transport_sends_each_chunk_as_it_is_written(marketer_client, streaming_reply, settings):
    settings.REDIS_URL = ""
    publisher = DatabaseReplyPublisher(streaming_reply)

    response = marketer_client.get(f"/studio/messages/{streaming_reply.pk}/stream")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert (response["Cache-Control"], response["X-Accel-Buffering"]) == ("no-cache", "no")
    frames = iter(response.streaming_content)
    assert next(frames) == RETRY
    publisher.token("Hello ")  # the first chunk is written at once
    assert next(frames) == sse("1:6:0", "token", {"text": "Hello "})
    publisher.token("world")
    publisher._flush()
    assert next(frames) == sse("1:11:0", "token", {"text": "world"})
    publisher.tool({"type": "theme", "theme": "dark"})
    assert next(frames) == sse("1:11:1", "tool", {"type": "theme", "theme": "dark"})
    finish(streaming_reply, "Hello world", [{"type": "theme", "theme": "dark"}])
    done = next(frames)
    assert parse(done) == [
        (
            "1:11:1",
            "done",
            {
                "id": streaming_reply.pk,
                "status": "complete",
                "content": "Hello world",
                "html": "<p>Hello world</p>\n",
                "actions": [{"type": "theme", "theme": "dark"}],
                "error": None,
            },
        )
    ]
    assert list(frames) == []  # the response ends with the reply


@pytest.mark.django_db
def test_database_transport_resumes_after_last_event_id(marketer_client, streaming_reply, settings):
    settings.REDIS_URL = ""
    StudioMessage.objects.filter(pk=streaming_reply.pk).update(content="Hello world")

    response = marketer_client.get(f"/studio/messages/{streaming_reply.pk}/stream", HTTP_LAST_EVENT_ID="1:6:0")

    frames = iter(response.streaming_content)
    assert next(frames) == RETRY
    assert next(frames) == sse("1:11:0", "token", {"text": "world"})  # exactly what the browser missed
    finish(streaming_reply, "Hello world!")
    assert parse(next(frames))[0][1:] == (
        "done",
        {
            "id": streaming_reply.pk,
            "status": "complete",
            "content": "Hello world!",
            "html": "<p>Hello world!</p>\n",
            "actions": [],
            "error": None,
        },
    )


@pytest.mark.django_db
def test_database_transport_resets_when_a_new_attempt_started(marketer_client, streaming_reply, settings):
    settings.REDIS_URL = ""
    StudioMessage.objects.filter(pk=streaming_reply.pk).update(attempt=2, content="Fresh")

    response = marketer_client.get(f"/studio/messages/{streaming_reply.pk}/stream", HTTP_LAST_EVENT_ID="1:11:0")

    frames = iter(response.streaming_content)
    assert next(frames) == RETRY
    assert next(frames) == sse("2:5:0", "reset", {"content": "Fresh"})


@pytest.mark.django_db
def test_a_finished_reply_is_sent_whole_and_a_failed_one_with_its_retry(marketer_client, streaming_reply, settings):
    settings.REDIS_URL = ""
    StudioMessage.objects.filter(pk=streaming_reply.pk).update(
        status="failed", error={"type": "PROVIDER_ERROR", "message": "No provider could answer right now."}
    )

    body = b"".join(marketer_client.get(f"/studio/messages/{streaming_reply.pk}/stream").streaming_content)

    assert parse(body) == [
        (
            "1:0:0",
            "failed",
            {
                "id": streaming_reply.pk,
                "status": "failed",
                "content": "",
                "html": "",
                "actions": [],
                "error": {"type": "PROVIDER_ERROR", "message": "No provider could answer right now."},
                "retry_url": f"/studio/messages/{streaming_reply.pk}/retry",
            },
        )
    ]


@pytest.mark.django_db
def test_only_the_author_can_read_a_reply_stream(client, outsider, manager, streaming_reply):
    for user in (outsider, manager):  # manager: same brand, but the conversation is the marketer's own
        client.force_login(user)
        assert client.get(f"/studio/messages/{streaming_reply.pk}/stream").status_code == 404
    client.logout()
    assert client.get(f"/studio/messages/{streaming_reply.pk}/stream").status_code == 302


# --- Redis Streams --------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_streams(settings):
    settings.REDIS_URL = settings.TEST_REDIS_URL
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)
    yield client
    for key in client.scan_iter("aicmo:studio:reply:*"):
        client.delete(key)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)  # dropping a connection ends the request, which closes the DB connection
def test_redis_transport_streams_entries_and_resumes_exactly_after_last_event_id(
    marketer_client, streaming_reply, redis_streams
):
    publisher = RedisReplyPublisher(streaming_reply.pk)
    key = stream_key(streaming_reply.pk)
    publisher.token("Hello ")

    response = marketer_client.get(f"/studio/messages/{streaming_reply.pk}/stream")

    frames = response.streaming_content
    assert next(frames) == RETRY
    first_id = redis_streams.xrange(key)[0][0].decode()
    assert next(frames) == sse(first_id, "token", {"text": "Hello "})
    publisher.token("world")  # arrives while the view blocks on XREAD
    second_id = redis_streams.xrange(key)[1][0].decode()
    assert next(frames) == sse(second_id, "token", {"text": "world"})
    assert 3590 < redis_streams.ttl(key) <= streaming.STREAM_TTL_S
    response.close()  # the browser drops the connection

    # The browser reconnects with the id of the last event it saw: it gets what came after, nothing twice.
    resumed = marketer_client.get(f"/studio/messages/{streaming_reply.pk}/stream", HTTP_LAST_EVENT_ID=first_id)
    frames = iter(resumed.streaming_content)
    assert next(frames) == RETRY
    assert next(frames) == sse(second_id, "token", {"text": "world"})
    finish(streaming_reply, "Hello world")
    streaming_reply.refresh_from_db()
    publisher.close(streaming_reply)
    done_id = redis_streams.xrange(key)[2][0].decode()
    assert parse(next(frames)) == [
        (
            done_id,
            "done",
            {
                "id": streaming_reply.pk,
                "status": "complete",
                "content": "Hello world",
                "html": "<p>Hello world</p>\n",
                "actions": [],
                "error": None,
            },
        )
    ]
    assert list(frames) == []


@pytest.mark.integration
@pytest.mark.django_db
def test_redis_transport_falls_back_to_the_saved_reply_when_the_stream_is_gone(
    marketer_client, streaming_reply, redis_streams
):
    finish(streaming_reply, "Saved while nobody watched")  # e.g. the stream expired, or Redis lost it

    body = b"".join(
        marketer_client.get(
            f"/studio/messages/{streaming_reply.pk}/stream", HTTP_LAST_EVENT_ID="1700000000000-0"
        ).streaming_content
    )

    assert [(e, d["content"]) for _, e, d in parse(body)] == [("done", "Saved while nobody watched")]


# --- end to end through a real worker -----------------------------------------------------------------------------


def converse_through_worker(client: Client, thread: StudioThread) -> tuple[StudioMessage, list, list]:
    """Post "hi", read a few events of the reply, drop the connection, reconnect with Last-Event-ID."""
    posted = client.post(f"/studio/{thread.pk}/messages", {"text": "hi"}, HTTP_X_REQUESTED_WITH="fetch")
    assert posted.status_code == 201
    stream_url = posted.json()["reply"]["stream_url"]
    response = client.get(stream_url)
    head: list[bytes] = []
    for chunk in response.streaming_content:
        head.append(chunk)
        if len(parse(b"".join(head))) == 3:
            break
    response.close()  # the connection drops after three events
    first = parse(b"".join(head))
    rest = parse(b"".join(client.get(stream_url, HTTP_LAST_EVENT_ID=first[-1][0]).streaming_content))
    return StudioMessage.objects.get(pk=posted.json()["reply"]["id"]), first, rest


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
# Only Redis: a worker process has no way to run without it any more (an empty REDIS_URL means make run's embedded
# server). The database transport is covered in-process above, until the studio drops it.
@pytest.mark.parametrize("transport", ["redis"])
def test_a_reply_streams_from_a_real_worker_and_a_reconnect_loses_nothing(
    transport, marketer, brand, tmp_path, settings
):
    from aicmo.testing.fake_llm_server import FakeLLMServer
    from aicmo.testing.processes import celery_worker, flush_redis

    settings.REDIS_URL = settings.TEST_REDIS_URL if transport == "redis" else ""
    flush_redis()
    # The worker talks to OpenAI (the fake, answering word by word every 50 ms) so the reply is still being
    # written when the page connects.
    with FakeLLMServer(chunk_delay_s=0.05) as fake:
        worker = celery_worker(
            tmp_path / "worker.log",
            concurrency=1,
            REDIS_URL=settings.REDIS_URL,
            OPENAI_API_KEY="sk-test-worker",
            OPENAI_BASE_URL=fake.openai_base_url,
        )
        worker.start(ready_text="ready.")
        try:
            thread = StudioThread.objects.create(user=marketer, brand=brand, title="New conversation")
            client = Client()
            client.force_login(marketer)

            reply, first, rest = converse_through_worker(client, thread)
        finally:
            worker.stop()

    assert reply.status == "complete", worker.output()[-3000:]
    assert (reply.content, reply.provider) == ("Here is a sample answer from the fake model about: hi", "openai")
    events = first + rest
    assert [e for _, e, _ in events[:3]] == ["token"] * 3  # word by word
    assert events[-1][1] == "done" and events[-1][2]["content"] == reply.content
    streamed = "".join(d["text"] for _, e, d in events if e == "token")
    # Nothing twice across the reconnect, and nothing lost: Redis delivers every chunk; the database transport
    # batches writes, so its last chunk may arrive only with `done` (which carries the whole text).
    if transport == "redis":
        assert streamed == reply.content
    else:
        assert len(streamed) > len("Here is a") and reply.content.startswith(streamed)
    ids = [i for i, _, _ in events]
    pattern = r"^\d+-\d+$" if transport == "redis" else r"^\d+:\d+:\d+$"
    assert all(re.match(pattern, i) for i in ids)
    assert "creatives.tasks.studio_reply" in worker.output()
