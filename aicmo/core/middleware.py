"""Request-level operations: one structured log line per request, a hard limit on request bodies, and health
probes answered before host and HTTPS checks.

Every middleware here runs in the server's mode: called under WSGI (and the test client), awaited under ASGI.
Under ASGI a sync-only middleware would run the rest of the request (the view's `?wait=` included) inside a
worker thread, holding it for the whole wait; Django's own middleware and django-htmx's are dual-mode too."""

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject, empty
from django.views.defaults import bad_request
from whitenoise.middleware import WhiteNoiseMiddleware

from aicmo.llm.exceptions import ErrorType

from .errors import NUL_MESSAGE, failed_envelope_builder, is_nul_error
from .health import PATHS, checked_async
from .threads import release_request_thread
from .views import healthz

logger = logging.getLogger("aicmo.request")

QUIET_PATHS = ("/healthz", "/health", "/static/")  # probes and assets: logged at DEBUG only


class DualModeMiddleware:
    """Base: `__call__` answers in the mode of the handler below (a coroutine under ASGI)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.handle(request)

    def handle(self, request):
        return self.get_response(request)

    async def __acall__(self, request):
        return await self.get_response(request)


class StreamThreadReleaseMiddleware(DualModeMiddleware):
    """Outermost: once a streaming response (a ChatKit answer) has passed every middleware below, the request's
    sync thread and its database connections are let go (aicmo/core/threads.py). Django's own middlewares run
    their `process_response` on that thread, so it cannot be released earlier; after this, an open stream is a
    suspended coroutine, not an idle OS thread (a thousand open answers were a thousand threads)."""

    async def __acall__(self, request):
        response = await self.get_response(request)
        if response.streaming:
            await release_request_thread()
        return response


class RequestLogMiddleware(DualModeMiddleware):
    """Logs method, path (never the query string: it may carry tokens), status and duration. It sits inside
    TraceIdMiddleware, so the line carries the request's trace id through `ContextFilter`."""

    def handle(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        self.log(request, response, started, evaluate_user=True)
        return response

    async def __acall__(self, request):
        started = time.monotonic()
        response = await self.get_response(request)
        # No database query from the event loop: the user is named only if the request already loaded it.
        self.log(request, response, started, evaluate_user=False)
        return response

    def log(self, request, response, started: float, *, evaluate_user: bool) -> None:
        level = logging.DEBUG if request.path.startswith(QUIET_PATHS) else logging.INFO
        if logger.isEnabledFor(level):
            user = getattr(request, "user", None)
            if not evaluate_user and isinstance(user, SimpleLazyObject) and user._wrapped is empty:
                user = None
            logger.log(
                level,
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": int((time.monotonic() - started) * 1000),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )


class HealthProbeMiddleware(DualModeMiddleware):
    """Answers /healthz and /health before SecurityMiddleware and CommonMiddleware. A container or load-balancer
    probe speaks plain HTTP to 127.0.0.1 (or the pod's address): SECURE_SSL_REDIRECT would redirect it and
    ALLOWED_HOSTS would refuse it, and the probe would call a healthy server dead. The answer is the same JSON.
    Served under ASGI, probes.py answers them before Django's handler; this answers the test client and WSGI."""

    def handle(self, request):
        if request.path in PATHS:
            return healthz(request)
        return self.get_response(request)

    async def __acall__(self, request):
        if request.path not in PATHS:
            return await self.get_response(request)
        if request.method != "GET":
            return healthz(request)  # 405, asking nothing
        status, body = await checked_async()  # on the event loop: no thread
        response = JsonResponse(body, status=status)
        add_never_cache_headers(response)
        return response


class RequestSizeLimitMiddleware(DualModeMiddleware):
    """Answers 413 to a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (AICMO_MAX_UPLOAD_BYTES for multipart
    uploads) before anything reads it. Django applies its limit to form data only; DRF's JSON parser reads
    the raw stream and would not. Generate endpoints answer a FAILED envelope, like every other refusal."""

    def refused(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django treats an unreadable Content-Length as no body
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.AICMO_MAX_UPLOAD_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return too_large(request, limit)
        return None

    def handle(self, request):
        return self.refused(request) or self.get_response(request)

    async def __acall__(self, request):
        return self.refused(request) or await self.get_response(request)


class NullCharacterMiddleware(DualModeMiddleware):
    """Turns the database's refusal of a NUL character (a %00 in a query parameter used as a filter: PostgreSQL
    cannot compare text holding NUL) into a 400 on pages; API views answer the same through the DRF exception
    handler. A NUL in a parameter nothing reads is ignored, like the parameter."""

    def process_exception(self, request, exception):

        if not is_nul_error(exception):
            return None
        if request.path.startswith("/api/"):
            return refusal(request, 400, NUL_MESSAGE, code="invalid", field="query")
        return bad_request(request, exception)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, dual-mode (its own middleware is sync-only): a static file is served from a thread, every
    other request passes straight through to the async handler below."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None):
        super().__init__(get_response)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)


def too_large(request, limit: int) -> JsonResponse:
    return refusal(
        request, 413, f"The request body is larger than the limit of {limit} bytes.", code="too_large", field="body"
    )


def refusal(request, status: int, message: str, *, code: str, field: str) -> JsonResponse:
    """A refusal made before any view ran: a FAILED envelope on the generate endpoints, {detail, code} elsewhere."""
    parts = request.path.strip("/").split("/")
    if len(parts) == 4 and parts[:2] == ["api", "v1"] and parts[3] == "generate":
        body = failed_envelope_builder()(
            module=parts[2],
            error_type=ErrorType.VALIDATION_ERROR,
            message=message,
            trace_id=getattr(request, "trace_id", "") or "-",
            details={field: [message]},
        )
    else:
        body = {"detail": message, "code": code}
    return JsonResponse(body, status=status)
