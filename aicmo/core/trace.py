"""Trace ids: taken from `X-Trace-ID` (or made), kept in a context variable for logs, echoed in responses."""

import re
import uuid
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

trace_id_var: ContextVar[str] = ContextVar("trace_id", default="")
run_id_var: ContextVar[str] = ContextVar("run_id", default="")

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_trace_id() -> str:
    return uuid.uuid4().hex


def clean_trace_id(value: str | None) -> str:
    """A client's trace id when it is safe to echo and log, else a fresh one."""
    return value if value and _VALID.match(value) else new_trace_id()


class TraceIdMiddleware:
    """Dual-mode (see aicmo.core.middleware): awaited under ASGI, so a waiting async view holds no thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        trace_id = clean_trace_id(request.headers.get("X-Trace-ID"))
        request.trace_id = trace_id
        token = trace_id_var.set(trace_id)
        try:
            response = self.get_response(request)
        finally:
            trace_id_var.reset(token)
        response["X-Trace-ID"] = trace_id
        return response

    async def __acall__(self, request):
        trace_id = clean_trace_id(request.headers.get("X-Trace-ID"))
        request.trace_id = trace_id
        token = trace_id_var.set(trace_id)
        try:
            response = await self.get_response(request)
        finally:
            trace_id_var.reset(token)
        response["X-Trace-ID"] = trace_id
        return response
