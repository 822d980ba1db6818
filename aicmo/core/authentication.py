"""HTTP Basic authentication for the API (contract §3: a client whose base URL carries the credentials,
`http://marketer:secret@host:8000`, is authenticated), locked out like the log-in form: DRF asks Django's
`authenticate()`, which django-axes guards (aicmo/core/login.py), so failures count for the client's address
and a locked address gets 429 with Retry-After, even with the right password."""

from axes.exceptions import AxesBackendPermissionDenied
from axes.utils import reset
from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from .login import client_ip


class LoginLocked(Throttled):
    default_detail = "Too many failed log-ins from your address."
    default_code = "login_throttled"


class ThrottledBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            authenticated = super().authenticate_credentials(userid, password, request)
        except (AuthenticationFailed, AxesBackendPermissionDenied):
            # Django's authenticate() swallows the axes backend's refusal and answers None; axes marks the
            # request it was given (here DRF's), so a locked address is told so instead of "invalid password".
            if getattr(request, "axes_locked_out", False):
                raise LoginLocked(wait=settings.AXES_COOLOFF_TIME.total_seconds()) from None
            raise
        # A success clears the address's failures, as a form log-in does (axes listens for user_logged_in,
        # which an API call never sends).
        reset(ip=client_ip(request))
        return authenticated


class ThrottledBasicScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of the class above (drf-spectacular registers extensions on import)."""

    target_class = ThrottledBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
