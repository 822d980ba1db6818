"""One family of application errors, mapped to HTTP answers in one DRF exception handler."""

import logging
from collections.abc import Callable

from django.db import DataError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A refusal the user can understand. `code` is machine-readable, `message` is for people."""

    http_status = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, details: dict | list | None = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ApplicationError):
    http_status = status.HTTP_404_NOT_FOUND
    code = "not_found"


class PermissionDenied(ApplicationError):
    http_status = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class Conflict(ApplicationError):
    """Illegal transition, stale version, blocking quality issues."""

    http_status = status.HTTP_409_CONFLICT
    code = "conflict"


NUL_MESSAGE = "The request contains a NUL character (%00)."


def is_nul_error(exc: BaseException) -> bool:
    """PostgreSQL cannot store or compare text holding NUL: a query parameter with %00 used as a filter."""
    return isinstance(exc, DataError) and "NUL (0x00)" in str(exc)


def api_exception_handler(exc, context):
    if is_nul_error(exc):
        return Response({"detail": NUL_MESSAGE, "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.details is not None:
            body["details"] = exc.details
        return Response(body, status=exc.http_status)
    response = exception_handler(exc, context)
    if response is None:
        # Never a bare 500 page for API clients: log with the trace id and answer in JSON.
        request = context.get("request")
        trace_id = getattr(request, "trace_id", "")
        logger.exception("unhandled API error", extra={"trace_id": trace_id})
        return Response(
            {"detail": "Internal error.", "code": "internal_error", "trace_id": trace_id},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait) + 1)
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    if len(response.data or ()) == 1 and getattr(detail, "code", None):
        response.data["code"] = detail.code  # 401/403/404/405/… answer {detail, code}, like ApplicationError
    return response


# --- the generate endpoints' refusals ---------------------------------------------------------------------------
# Refusals made before any view runs (oversized or malformed requests) answer a FAILED envelope on the generate
# endpoints. The envelope belongs to the deliverables app, above aicmo: it registers its builder when Django
# starts (DeliverablesConfig.ready), so aicmo never imports it.
_failed_envelope_builder: Callable[..., dict] | None = None


def failed_envelope_register(builder: Callable[..., dict]) -> None:
    global _failed_envelope_builder
    _failed_envelope_builder = builder


def failed_envelope_builder() -> Callable[..., dict]:
    if _failed_envelope_builder is None:
        raise RuntimeError("No envelope builder registered: is the deliverables app installed?")
    return _failed_envelope_builder
