from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from campaigns.selectors import brands_for
from deliverables.platforms import PLATFORMS
from deliverables.selectors import approval_queue_for, recent_runs_for
from deliverables.services.workflow import APPROVE_PERMISSION

from .charts import line_chart
from .errors import ApplicationError
from .health import broker_ok, database_ok
from .selectors import spend_series, spend_this_month
from .services import preference_set_theme
from .templatetags.ui import count, usd


@never_cache
@require_GET
def healthz(request):
    """200 when the database and broker answer; 503 naming what is down."""
    checks = {"db": "ok" if database_ok() else "down", "broker": "ok" if broker_ok() else "down"}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)


@login_required
@require_GET
def home(request):
    """Recent runs, the approval queue (managers), spend this month per brand, and spend over 30 days."""
    user = request.user
    metric = "tokens" if request.GET.get("metric") == "tokens" else "cost"
    data = spend_series(user, days=30)
    index = 0 if metric == "cost" else 1
    series = {
        f"{brand} · {provider}": {day: values[index] for day, values in points.items()}
        for (brand, provider), points in data["series"].items()
    }
    chart = line_chart(
        days=data["days"],
        series=series,
        format_value=usd if metric == "cost" else count,
        title="Spend per day" if metric == "cost" else "Tokens per day",
    )
    spend = spend_this_month(user)
    can_approve = user.has_perm(APPROVE_PERMISSION)
    return render(
        request,
        "core/home.html",
        {
            "runs": recent_runs_for(user, limit=10),
            "queue": approval_queue_for(user, limit=6) if can_approve else [],
            "can_approve": can_approve,
            "spend": spend,
            "spend_total": sum((row.cost_usd for row in spend), Decimal("0")),
            "tokens_total": sum(row.tokens for row in spend),
            "chart": chart,
            "metric": metric,
            "brands": list(brands_for(user).order_by("name")),
        },
    )


@login_required
@require_POST
def theme_set(request):
    """Remember the theme. Script callers (the toggle) get 204; a plain form post goes back where it came from."""
    try:
        preference_set_theme(user=request.user, theme=request.POST.get("theme", ""))
    except ApplicationError as error:
        return JsonResponse({"detail": error.message}, status=400)
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)


@require_GET
@cache_control(public=True, max_age=3600)
def platforms_css(request):
    """Platform colours as CSS classes, from the one registry (deliverables/platforms.py): pages colour
    calendar entries and previews with classes, never inline styles (strict CSP)."""
    rules = [f".platform-{p.key} {{ --platform-color: {p.color}; }}" for p in PLATFORMS.values()]
    return HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
