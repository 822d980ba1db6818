"""Fixtures for the provider layer (the fake LLM server `fake` and the cache reset live in the root conftest)."""

import socket

import pytest


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
