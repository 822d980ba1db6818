"""Fixtures of the studio tests: the real Redis (TEST_REDIS_URL) for reply streams, replies run by a worker
thread as a Celery worker would, the ChatKit protocol spoken through Django's AsyncClient, providers on the
fake LLM server."""

import json
import threading
from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync
from chatkit.types import ThreadStreamEvent
from django.db import connection
from pydantic import TypeAdapter
from rest_framework.authtoken.models import Token

EVENTS = TypeAdapter(ThreadStreamEvent)


@pytest.fixture
def studio_redis(settings):
    """Reply streams on the test Redis database, emptied of studio keys before and after."""
    import redis

    from aicmo.core import redis_clients
    from creatives.studio import relay

    settings.REDIS_URL = settings.TEST_REDIS_URL
    relay._sync_clients.clear()
    redis_clients.forget()
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)

    def flush():
        keys = list(client.scan_iter("aicmo:studio:*"))
        if keys:
            client.delete(*keys)

    flush()
    yield client
    flush()
    redis_clients.forget()
    from creatives.studio.db import close_connections

    close_connections()  # the ChatKit server's database threads: before the test database is dropped


@pytest.fixture
def worker_threads(monkeypatch, studio_redis):
    """Each queued reply runs in a thread, as a worker would (its own database connection). A reply's image task
    runs in a thread too, as Celery's eager mode runs it (`run_eagerly`: its retries at once, countdowns not
    slept)."""
    from aicmo.testing.eager import run_eagerly
    from creatives import tasks

    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def work(run):
        try:
            run()
        except BaseException as error:  # surfaced by the test, not lost in a thread
            errors.append(error)
        finally:
            connection.close()

    def in_thread(run):
        thread = threading.Thread(target=work, args=(run,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(
        tasks.studio_respond, "apply_async", lambda args, **kwargs: in_thread(lambda: tasks.studio_respond.run(*args))
    )
    monkeypatch.setattr(
        tasks.studio_image,
        "apply_async",
        lambda args, **kwargs: in_thread(lambda: run_eagerly(tasks.studio_image, args)),
    )
    yield threads
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


class ChatKit:
    """Speaks the ChatKit protocol to POST /chatkit as a ChatKit front end does (a token in its custom fetch).
    `stream()` parses every Server-Sent Event with the library's ThreadStreamEvent type."""

    def __init__(self, token: str | None):
        self.headers = {"Authorization": f"Token {token}"} if token else {}

    def _post(self, request):
        from django.test import AsyncClient

        body = request if isinstance(request, (str, bytes)) else request.model_dump_json(exclude_none=True)

        async def go():
            response = await AsyncClient().post(
                "/chatkit", data=body, content_type="application/json", headers=self.headers
            )
            chunks = []
            if response.streaming:
                async for chunk in response.streaming_content:
                    chunks.append(chunk)
            else:
                chunks.append(response.content)
            return response, b"".join(chunks)

        return async_to_sync(go)()

    def call(self, request):
        """A non-streaming request: (status, JSON)."""
        response, body = self._post(request)
        return response.status_code, json.loads(body)

    def stream(self, request) -> list:
        response, body = self._post(request)
        assert response.status_code == 200, body
        assert response["Content-Type"].startswith("text/event-stream")
        events = []
        for frame in body.decode().split("\n\n"):
            if frame.strip():
                assert frame.startswith("data: "), frame
                events.append(EVENTS.validate_json(frame[len("data: ") :]))
        return events

    def raw(self, request):
        return self._post(request)


@pytest.fixture
def chatkit_as() -> Callable[..., ChatKit]:
    return lambda user: ChatKit(token_for(user) if user is not None else None)


@pytest.fixture
def openai_only(settings, fake):
    """The chain is OpenAI on the fake server, and nothing else (no offline fallback)."""
    settings.OPENAI_API_KEY = "sk-test-studio"
    settings.OPENAI_BASE_URL = fake.openai_base_url
    settings.AICMO_DEV_STUBS = False
    return fake


@pytest.fixture
def anthropic_only(settings, fake):
    settings.ANTHROPIC_API_KEY = "sk-ant-test-studio"
    settings.ANTHROPIC_BASE_URL = fake.anthropic_base_url
    settings.AICMO_ANTHROPIC_MODEL = "claude-haiku-4-5"
    settings.AICMO_DEV_STUBS = False
    return fake


@pytest.fixture
def thread(marketer, brand):
    from creatives.models import StudioThread

    return StudioThread.objects.create(user=marketer, brand=brand, title="New conversation")
