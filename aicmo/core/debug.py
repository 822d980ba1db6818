"""Debug pages that cannot leak (dev settings): Django masks settings whose *names* look secret, not passwords
inside URLs (DATABASE_URL, REDIS_URL, broker URLs in CACHES) nor the process environment in request.META; and its
404 page lists every URL pattern. These two pieces close both."""

import os
import re

from django.conf import settings
from django.views.debug import SafeExceptionReporterFilter

from .handlers import not_found
from .middleware import DualModeMiddleware

# scheme://user:password@host  →  scheme://user:********@host
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?=@)", re.I)


def mask_url_passwords(text: str, substitute: str) -> str:
    return _URL_PASSWORD.sub(lambda m: m.group("head") + substitute, text)


class CredentialMaskingFilter(SafeExceptionReporterFilter):
    """Also masks passwords inside URL-shaped values, wherever they sit in settings, and every environment
    variable copied into request.META (runserver and uvicorn put the whole environment there)."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if isinstance(value, str):  # lazy strings too
            return mask_url_passwords(str(value), self.cleansed_substitute)
        return value

    def get_safe_request_meta(self, request):
        environment = set(os.environ)
        meta = super().get_safe_request_meta(request)
        return {
            key: self.cleansed_substitute if key in environment else self.cleanse_setting(key, value)
            for key, value in meta.items()
        }


class NoUrlListMiddleware(DualModeMiddleware):
    """With DEBUG on, Django's 404 page lists the project's URL patterns: answer the site's own 404 instead."""

    def handle(self, request):
        return self._guarded(request, self.get_response(request))

    async def __acall__(self, request):
        return self._guarded(request, await self.get_response(request))

    @staticmethod
    def _guarded(request, response):
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and b"Django tried these URL patterns" in getattr(response, "content", b"")
        ):
            return not_found(request, None)
        return response
