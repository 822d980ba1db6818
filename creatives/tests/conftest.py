"""Fixtures of the studio tests: a thread, replies run in-process, providers on the fake LLM server."""

from collections.abc import Callable

import pytest

from creatives.models import StudioMessage, StudioThread
from creatives.studio.services import message_post


@pytest.fixture
def thread(marketer, brand) -> StudioThread:
    return StudioThread.objects.create(user=marketer, brand=brand, title="New conversation")


@pytest.fixture
def replies_inline(monkeypatch):
    """Run the studio reply task in-process when it is queued (the integration tests use a real worker).
    Image backoff sleeps are recorded instead of slept."""
    from creatives import tasks
    from creatives.studio import concepts

    monkeypatch.setattr(tasks.studio_reply, "apply_async", lambda args, **kwargs: tasks.studio_reply.run(*args))
    sleeps: list[float] = []
    monkeypatch.setattr(concepts, "backoff_sleep", sleeps.append)
    return sleeps


@pytest.fixture
def say(replies_inline, django_capture_on_commit_callbacks) -> Callable[..., StudioMessage]:
    """`say(thread, "hi")` posts a marketer's message, runs the reply, and returns it as saved."""

    def post(thread: StudioThread, text: str, *, trace_id: str = "") -> StudioMessage:
        with django_capture_on_commit_callbacks(execute=True):
            _, reply = message_post(
                thread=thread,
                user=thread.user,
                text=text,
                trace_id=trace_id or f"trace-{StudioMessage.objects.count() + 1}",
            )
        reply.refresh_from_db()
        thread.refresh_from_db()
        return reply

    return post


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
