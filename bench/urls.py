"""The URLconf of the benchmark's web server: the product's (aicmo.urls, unchanged) plus one bench-only endpoint.

`GET /bench/bare` is the API benchmark's baseline: a DRF view that answers a constant once the request is
authenticated, with the product API's authentication and permission classes (REST_FRAMEWORK defaults: token
first) and nothing else: no throttle, no pagination, no brand scoping, no query beyond the token lookup. It is
served only by a server started with `bench.server_settings`; no product URLconf includes it."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo.urls import handler400, handler403, handler404, handler500
from aicmo.urls import urlpatterns as product_urlpatterns

BARE_PATH = "/bench/bare"


class BareView(APIView):
    """A constant after authentication (the DRF defaults of the product's API: authentication classes,
    IsAuthenticated, the JSON renderer)."""

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path(BARE_PATH.lstrip("/"), BareView.as_view(), name="bench-bare"), *product_urlpatterns]

__all__ = ["BARE_PATH", "handler400", "handler403", "handler404", "handler500", "urlpatterns"]
