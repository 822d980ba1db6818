"""The ASGI handler of aicmo/asgi.py lends each request a thread for its sync parts and takes it back: requests one
after the other share one thread instead of starting two each (Django's own handler starts the request's and a
joiner)."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from django.core.signals import request_started

from aicmo.core.threads import ASGIHandler, RequestThreads

pytestmark = pytest.mark.django_db(transaction=True)


async def _get(handler: ASGIHandler, path: str) -> int:
    """One GET through the handler, as uvicorn calls it; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    bodies = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive():
        if bodies:
            return bodies.pop()
        await asyncio.Event().wait()  # no disconnect: the handler cancels this once the response is sent

    async def send(message):
        sent.append(message)

    await handler(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


@pytest.fixture
def sync_threads():
    """The thread each request's `request_started` receivers ran on (a thread-sensitive sync part)."""
    seen: list[threading.Thread] = []

    def record(**kwargs):
        seen.append(threading.current_thread())

    request_started.connect(record, dispatch_uid="test_request_threads")
    yield seen
    request_started.disconnect(dispatch_uid="test_request_threads")


def test_requests_one_after_another_run_on_one_lent_thread(sync_threads, settings, monkeypatch):
    settings.AICMO_REQUEST_THREADS_KEPT = 2
    pool = RequestThreads()
    monkeypatch.setattr("aicmo.core.threads.REQUEST_THREADS", pool)
    handler = ASGIHandler()

    async def scenario():
        return [await _get(handler, "/no-such-page/") for _ in range(3)]

    assert async_to_sync(scenario)() == [404, 404, 404]
    assert len(sync_threads) == 3
    assert sync_threads[0] is not threading.current_thread()  # not the event loop's: a request thread
    assert sync_threads[0] is sync_threads[1] is sync_threads[2]  # lent, taken back, lent again
    assert len(pool._idle) == 1


def test_concurrent_requests_get_threads_of_their_own_and_at_most_the_kept_ones_stay(
    sync_threads, settings, monkeypatch
):
    settings.AICMO_REQUEST_THREADS_KEPT = 1
    pool = RequestThreads()
    monkeypatch.setattr("aicmo.core.threads.REQUEST_THREADS", pool)
    handler = ASGIHandler()
    both_started = threading.Barrier(2)

    def hold(**kwargs):  # each request's sync part waits for the other's: both are in flight at once
        both_started.wait(timeout=10)

    request_started.connect(hold, dispatch_uid="test_request_threads_hold")
    try:

        async def scenario():
            return await asyncio.gather(_get(handler, "/no-such-page/"), _get(handler, "/no-such-page/"))

        assert async_to_sync(scenario)() == [404, 404]
    finally:
        request_started.disconnect(dispatch_uid="test_request_threads_hold")
    assert len(sync_threads) == 2 and sync_threads[0] is not sync_threads[1]
    assert len(pool._idle) == 1  # the other one ended
