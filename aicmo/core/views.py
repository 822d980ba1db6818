from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import broker_ok, database_ok


@never_cache
@require_GET
def healthz(request):
    """200 when the database and broker answer; 503 naming what is down."""
    checks = {"db": "ok" if database_ok() else "down", "broker": "ok" if broker_ok() else "down"}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
