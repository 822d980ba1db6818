"""Reads of the core app: display preferences and the home page's spend figures."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.selectors import brands_for

from .models import UserPreference

OFFLINE = "offline"  # the template provider: its calls are counted, its words are not tokens


def theme_for(user) -> str:
    """'light', 'dark' or 'system' (also for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return UserPreference.Theme.SYSTEM
    theme = UserPreference.objects.filter(user=user).values_list("theme", flat=True).first()
    return theme or UserPreference.Theme.SYSTEM


@dataclass(frozen=True)
class BrandSpend:
    name: str
    slug: str
    cost_usd: Decimal
    tokens: int
    calls: int
    unpriced_calls: int
    offline_calls: int = 0  # template drafts: counted apart, their words are not tokens


def month_start(today: date | None = None) -> datetime:
    today = today or timezone.localdate()
    return timezone.make_aware(datetime.combine(today.replace(day=1), time.min))


def spend_this_month(user, *, today: date | None = None) -> list[BrandSpend]:
    """Cost, tokens and successful calls of this calendar month, per brand of the user (zero rows included)."""
    from deliverables.models import ProviderCall

    brands = list(brands_for(user).order_by("name"))
    rows = (
        ProviderCall.objects.filter(
            brand__in=brands, created_at__gte=month_start(today), outcome=ProviderCall.Outcome.OK
        )
        .values("brand_id")
        .annotate(
            cost=Sum("cost_usd"),
            tokens=Sum(F("tokens_in") + F("tokens_out"), filter=~Q(provider=OFFLINE)),
            calls=Count("pk"),
            offline=Count("pk", filter=Q(provider=OFFLINE)),
            unpriced=Count("pk", filter=Q(cost_usd__isnull=True)),
        )
    )
    by_brand = {row["brand_id"]: row for row in rows}
    spend = []
    for brand in brands:
        row = by_brand.get(brand.pk, {})
        spend.append(
            BrandSpend(
                name=brand.name,
                slug=brand.slug,
                cost_usd=row.get("cost") or Decimal("0"),
                tokens=row.get("tokens") or 0,
                calls=row.get("calls") or 0,
                unpriced_calls=row.get("unpriced") or 0,
                offline_calls=row.get("offline") or 0,
            )
        )
    return spend


def spend_series(user, *, days: int = 30, today: date | None = None) -> dict:
    """Daily cost and tokens of successful provider calls over the last `days` days, one series per
    (brand, provider). Answers {"days": [date…], "series": {(brand, provider): {date: (cost, tokens)}}}."""
    from deliverables.models import ProviderCall

    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        ProviderCall.objects.filter(brand__in=brands_for(user), created_at__gte=since, outcome=ProviderCall.Outcome.OK)
        .annotate(day=TruncDate("created_at"))
        .values("day", "brand__name", "provider")
        .annotate(cost=Sum("cost_usd"), tokens=Sum(F("tokens_in") + F("tokens_out"), filter=~Q(provider=OFFLINE)))
        .order_by("brand__name", "provider", "day")
    )
    series: dict[tuple[str, str], dict[date, tuple[Decimal, int]]] = {}
    for row in rows:
        series.setdefault((row["brand__name"], row["provider"]), {})[row["day"]] = (
            row["cost"] or Decimal("0"),
            row["tokens"] or 0,
        )
    return {"days": [first + timedelta(days=i) for i in range(days)], "series": series}
