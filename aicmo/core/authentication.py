"""HTTP Basic authentication for the API (contract §3: a client whose base URL carries the credentials,
`http://marketer:secret@host:8000`, is authenticated), braked like the log-in form: it goes through
`authenticate()` with Django's own request, so django-axes (aicmo/core/login.py) counts its failures with the
page log-in's, and a locked-out address gets AxesMiddleware's 429 with Retry-After, even with the right
password."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BasicAuthentication


class ThrottledBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        # axes marks the request it is given as locked out; AxesMiddleware reads that mark on Django's request.
        return super().authenticate_credentials(userid, password, getattr(request, "_request", request))


class ThrottledBasicScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of the class above (drf-spectacular registers extensions on import)."""

    target_class = ThrottledBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
