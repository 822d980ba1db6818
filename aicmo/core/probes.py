"""GET /healthz and /health answered on the event loop, ahead of Django's ASGI handler.

Through Django, a probe under load waited for threads three times (the `request_started` signal closing old
connections, the checks, `request_finished`), each a wait for a free thread and then for the GIL: with a thousand
studio streams flowing, a probe took 100-300 ms, most of it in those waits. Here nothing leaves the loop: both
checks are awaited on it (health.checked_async). The answer is HealthProbeMiddleware's (WSGI, the test client):
the same status, JSON and headers, and the request's `X-Trace-ID` echoed as on every response."""

import json

from django.utils.http import http_date

from .health import PATHS, checked_async
from .trace import clean_trace_id

NO_CACHE = b"max-age=0, no-cache, no-store, must-revalidate, private"  # what never_cache sends


class HealthProbes:
    """ASGI middleware: answers GET /healthz and /health; every other request goes on to `app`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in PATHS or scope["method"] != "GET":
            return await self.app(scope, receive, send)  # (a POST gets Django's 405)
        status, report = await checked_async()
        body = json.dumps(report).encode()
        sent_trace_id = next((value for name, value in scope["headers"] if name == b"x-trace-id"), b"")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", NO_CACHE),
            (b"expires", http_date().encode()),
            (b"x-trace-id", clean_trace_id(sent_trace_id.decode("latin-1")).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
