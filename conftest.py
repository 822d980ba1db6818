"""Fixtures shared by every app's tests: brands, the three roles, API clients, and run helpers."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from brands.tests.factories import BrandFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Integration tests need PostgreSQL and Redis. Off CI they skip when those are missing; with CI=true
    they always run, so a missing service fails the run instead of hiding it."""
    if settings.CI:
        return
    import redis

    try:
        redis.Redis.from_url(settings.TEST_REDIS_URL, socket_connect_timeout=1).ping()
        redis_up = True
    except Exception:
        redis_up = False
    if settings.POSTGRES_AVAILABLE and redis_up:
        return
    skip = pytest.mark.skip(reason="PostgreSQL and Redis are needed (they are required when CI=true)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # cooldowns and throttles must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def brand(db):
    return BrandFactory(name="Acme Coffee Roasters", slug="acme", banned_words=["cheap"])


@pytest.fixture
def other_brand(db):
    return BrandFactory(name="Globex Corporation", slug="globex")


@pytest.fixture
def marketer(brand):
    return UserFactory(username="marketer", role="marketer", brands=[brand])


@pytest.fixture
def manager(brand):
    return UserFactory(username="manager", role="manager", brands=[brand], is_staff=True)


@pytest.fixture
def outsider(other_brand):
    return UserFactory(username="outsider", role="marketer", brands=[other_brand])


@pytest.fixture
def agency(brand, other_brand):
    """Manager of globex, marketer of acme (contract §3): one person, two roles."""
    return UserFactory(username="agency", roles={other_brand: "manager", brand: "marketer"}, is_staff=True)


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_client_for(user) -> Client:
    """A browser-like client with a logged-in session (pages, CSRF-exempt like Django's test client)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def marketer_api(marketer):
    return api_client_for(marketer)


@pytest.fixture
def manager_api(manager):
    return api_client_for(manager)


@pytest.fixture
def outsider_api(outsider):
    return api_client_for(outsider)


@pytest.fixture
def marketer_client(marketer):
    return page_client_for(marketer)


@pytest.fixture
def manager_client(manager):
    return page_client_for(manager)


@pytest.fixture
def outsider_client(outsider):
    return page_client_for(outsider)


@pytest.fixture
def run_tasks_inline(monkeypatch, django_capture_on_commit_callbacks):
    """Run the generation tasks in-process, right after commit (unit tests of the pipeline; the
    integration tests use a real worker). Yields a context manager to wrap the request in."""
    from aicmo.testing.eager import run_eagerly
    from deliverables import tasks

    monkeypatch.setattr(
        tasks.generate_deliverable, "apply_async", lambda args, **kwargs: tasks.generate_deliverable.run(*args)
    )
    monkeypatch.setattr(
        tasks.generate_slot_image, "apply_async", lambda args, **kwargs: run_eagerly(tasks.generate_slot_image, args)
    )
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real Celery worker process on the test database and Redis (integration tests only)."""
    from aicmo.testing.processes import celery_worker, flush_redis

    flush_redis()
    worker = celery_worker(tmp_path / "worker.log").start(ready_text="ready.")
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def _fake_llm_session():
    from aicmo.testing.fake_llm_server import FakeLLMServer

    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake(_fake_llm_session):
    """The local fake OpenAI / Anthropic server (official SDKs talk to it; nothing reaches the internet),
    one per session, its scripted replies and request log reset around every test."""
    _fake_llm_session.reset()
    yield _fake_llm_session
    _fake_llm_session.reset()


SECRET_OPENAI_KEY = "sk-test-SECRET-openai-0123456789"
SECRET_ANTHROPIC_KEY = "sk-ant-test-SECRET-anthropic-0123456789"


@pytest.fixture
def sdk_providers(settings, fake):
    """Chain = openai → anthropic (no offline), both pointed at the fake server with recognisable keys."""
    settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = SECRET_OPENAI_KEY, fake.openai_base_url
    settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL = SECRET_ANTHROPIC_KEY, fake.anthropic_base_url
    settings.AICMO_LLM_PRIMARY_PROVIDER = "openai"
    settings.AICMO_LLM_FALLBACK_PROVIDERS = ["anthropic"]
    settings.AICMO_ANTHROPIC_MODEL = "claude-haiku-4-5"
    return fake


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium, headless. Missing chromium skips the test off CI and fails it on CI."""
    from django.db import connections

    from aicmo.testing.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run bin/ensure-chromium (it apt-installs Debian's chromium)."
        if settings.CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Connections opened while Playwright's loop ran must not outlive the test (they block dropping the
        # test database).
        connections.close_all()
