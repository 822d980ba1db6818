"""HTTP Basic authentication for the API (contract §3: a client whose base URL carries the credentials,
`http://marketer:secret@host:8000`, is authenticated), braked like the log-in form: failures go through the
same per-username-and-address counter (aicmo/core/login.py), and while it is over the limit even the right
password is refused, with 429 and Retry-After."""

import logging

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from .login import client_ip, login_blocked, login_failed, login_succeeded

logger = logging.getLogger(__name__)


class LoginThrottled(Throttled):
    default_detail = "Too many failed log-ins for this account from your address."
    default_code = "login_throttled"


class ThrottledBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        ip = client_ip(request) if request is not None else "unknown"
        if login_blocked(username=userid, ip=ip):
            logger.warning("basic auth refused: too many failures", extra={"ip": ip})
            raise LoginThrottled(wait=settings.AICMO_LOGIN_WINDOW_S)
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except AuthenticationFailed:
            failures = login_failed(username=userid, ip=ip)
            logger.info("basic auth failed", extra={"ip": ip, "failures": failures})
            raise
        login_succeeded(username=userid, ip=ip)
        return user, auth


class ThrottledBasicScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of the class above (drf-spectacular registers extensions on import)."""

    target_class = ThrottledBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
