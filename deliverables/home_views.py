"""The home page (recent runs, the approval queue for managers, spend this month per brand and over 30 days)
and the platform stylesheet every page loads."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from aicmo.core.charts import line_chart
from aicmo.core.templatetags.ui import count, usd
from brands import roles
from brands.selectors import brands_for

from .platforms import PLATFORMS
from .selectors import approval_queue_for, recent_runs_for, spend_series, spend_this_month


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
    can_approve = roles.may_anywhere(user, roles.APPROVE)
    return render(
        request,
        "deliverables/home.html",
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


@require_GET
@cache_control(public=True, max_age=3600)
def platforms_css(request):
    """Platform colours as CSS classes, from the one registry (deliverables/platforms.py): pages colour
    calendar entries and previews with classes, never inline styles (strict CSP)."""
    rules = [
        f".platform-{p.key} {{ --platform-color: {p.color}; --platform-link: light-dark({p.link[0]}, {p.link[1]}); }}"
        for p in PLATFORMS.values()
    ]
    return HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
