"""Fixtures for the provider layer: one fake LLM server per session, reset around every test."""

import socket
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from aicmo.llm.fake_server import FakeLLMServer


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()  # the chain's cooldown lives in the cache
    yield
    cache.clear()


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
def fake(_fake_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    _fake_server.reset()
    yield _fake_server
    _fake_server.reset()


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
