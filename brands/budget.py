"""Monthly budgets (contract §5): each provider call's cost is added to the brand's row for the month, and
every call is preceded by a check on that row. Both are single conditional UPDATEs on one row, so the check
sees every cost committed before it; calls already in flight when the budget runs out may finish (the
overshoot is at most those calls), but no new call starts."""

from datetime import UTC, date
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from aicmo.core.errors import ApplicationError

from .models import Brand, BrandMonthSpend


class BudgetExceeded(ApplicationError):
    http_status = 402
    code = "BUDGET_EXCEEDED"


def month_of(when=None) -> date:
    return (when or timezone.now()).astimezone(UTC).date().replace(day=1)


def _row(brand_id: int, month: date) -> None:
    BrandMonthSpend.objects.get_or_create(brand_id=brand_id, month=month)


_UNREAD = object()


def budget_check(brand_id: int, *, when=None, budget=_UNREAD) -> None:
    """Raise BudgetExceeded when the brand's monthly budget is set and this month's spend has reached it.
    `budget`: the brand's `monthly_budget_usd` when the caller has just read the brand row (saves reading it)."""
    if budget is _UNREAD:
        budget = Brand.objects.filter(pk=brand_id).values_list("monthly_budget_usd", flat=True).first()
    if budget is None:
        return
    month = month_of(when)
    _row(brand_id, month)
    # The check is the UPDATE's WHERE clause: it reads the committed spend under the row lock.
    refused = BrandMonthSpend.objects.filter(brand_id=brand_id, month=month, spent_usd__gte=budget).update(
        updated_at=timezone.now()
    )
    if refused:
        spent = BrandMonthSpend.objects.filter(brand_id=brand_id, month=month).values_list("spent_usd", flat=True).get()
        raise BudgetExceeded(
            f"This brand's monthly budget is spent (${spent:.2f} of ${budget:.2f} this month): "
            "a manager can raise it on the brand page.",
            details={"monthly_budget_usd": str(budget), "spent_usd": f"{spent:.6f}"},
        )


def spend_add(brand_id: int, cost_usd: Decimal | None, *, when=None) -> None:
    """Count a call's cost against the brand's month (an atomic increment)."""
    if not cost_usd:
        return
    month = month_of(when)
    _row(brand_id, month)
    BrandMonthSpend.objects.filter(brand_id=brand_id, month=month).update(spent_usd=F("spent_usd") + cost_usd)


def month_spend(brand_id: int, *, when=None) -> Decimal:
    row = BrandMonthSpend.objects.filter(brand_id=brand_id, month=month_of(when)).values_list("spent_usd", flat=True)
    return row.first() or Decimal("0")
