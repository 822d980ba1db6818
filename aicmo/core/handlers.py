"""Error handlers (handler400/403/404/500 in aicmo/urls.py): JSON for API paths, the site's pages elsewhere.
DRF answers errors raised inside its views; these cover the rest (no URL matched, middleware refusals)."""

import re

from django.http import JsonResponse
from django.views import defaults

API_PATH = re.compile(r"^/api/|^/assets/[^/]+/file$")  # the API, and asset files (not the /assets/ gallery)


def _is_api(request) -> bool:
    return bool(API_PATH.match(request.path))


def _json(request, status: int, detail: str, code: str) -> JsonResponse:
    body = {"detail": detail, "code": code}
    if status >= 500:
        body["trace_id"] = getattr(request, "trace_id", "")
    return JsonResponse(body, status=status)


def bad_request(request, exception):
    if _is_api(request):
        return _json(request, 400, "Bad request.", "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return _json(request, 403, "You do not have permission to perform this action.", "permission_denied")
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return _json(request, 404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _json(request, 500, "Internal error.", "internal_error")
    return defaults.server_error(request)
