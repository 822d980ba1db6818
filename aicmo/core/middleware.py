"""Request-level operations: one structured log line per request, a hard limit on request bodies, and health
probes answered before host and HTTPS checks."""

import logging
import time

from django.conf import settings
from django.http import JsonResponse
from django.views.defaults import bad_request

from aicmo.llm.exceptions import ErrorType

from .errors import NUL_MESSAGE, failed_envelope_builder, is_nul_error

logger = logging.getLogger("aicmo.request")

QUIET_PATHS = ("/healthz", "/health", "/static/")  # probes and assets: logged at DEBUG only


class RequestLogMiddleware:
    """Logs method, path (never the query string: it may carry tokens), status and duration. It sits inside
    TraceIdMiddleware, so the line carries the request's trace id through `ContextFilter`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        level = logging.DEBUG if request.path.startswith(QUIET_PATHS) else logging.INFO
        if logger.isEnabledFor(level):
            user = getattr(request, "user", None)
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
        return response


class HealthProbeMiddleware:
    """Answers /healthz and /health before SecurityMiddleware and CommonMiddleware. A container or load-balancer
    probe speaks plain HTTP to 127.0.0.1 (or the pod's address): SECURE_SSL_REDIRECT would redirect it and
    ALLOWED_HOSTS would refuse it, and the probe would call a healthy server dead. The answer is the same JSON."""

    PATHS = ("/healthz", "/health")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in self.PATHS:
            from .views import healthz

            return healthz(request)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Answers 413 to a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (AICMO_MAX_UPLOAD_BYTES for multipart
    uploads) before anything reads it. Django applies its limit to form data only; DRF's JSON parser reads
    the raw stream and would not. Generate endpoints answer a FAILED envelope, like every other refusal."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django treats an unreadable Content-Length as no body
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.AICMO_MAX_UPLOAD_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return too_large(request, limit)
        return self.get_response(request)


class NullCharacterMiddleware:
    """Turns the database's refusal of a NUL character (a %00 in a query parameter used as a filter: PostgreSQL
    cannot compare text holding NUL) into a 400 on pages; API views answer the same through the DRF exception
    handler. A NUL in a parameter nothing reads is ignored, like the parameter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):

        if not is_nul_error(exception):
            return None
        if request.path.startswith("/api/"):
            return refusal(request, 400, NUL_MESSAGE, code="invalid", field="query")
        return bad_request(request, exception)


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
