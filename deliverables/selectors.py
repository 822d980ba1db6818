"""Reads of the deliverables app, scoped by brand membership and loaded in a constant number of queries."""

import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.fields.json import KT, KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate, TruncMonth
from django.utils import timezone

from brands.models import BrandMonthSpend
from brands.roles import APPROVE
from brands.selectors import brands_for, brands_where

from .models import Asset, Deliverable, Notification, NotificationSettings, ProviderCall, Revision, Rewrite, Run
from .provenance import OFFLINE


def runs_for(user) -> QuerySet[Run]:
    """The runs a user may see: those of their brands (superusers: all)."""
    runs = Run.objects.select_related("brand", "campaign")
    return runs if user.is_superuser else runs.filter(brand__in=brands_for(user))


def deliverables_for(user) -> QuerySet[Deliverable]:
    deliverables = Deliverable.objects.select_related("run", "run__brand")
    return deliverables if user.is_superuser else deliverables.filter(run__brand__in=brands_for(user))


def with_current_revision(deliverables: list[Deliverable], *, with_images: bool = True) -> list[Deliverable]:
    """Attach `current_revision` and (unless `with_images=False`) `image_assets` to each deliverable: two
    queries whatever the count (one without the images)."""
    by_id = {d.pk: d for d in deliverables}
    if not by_id:
        return deliverables
    wanted = {(pk, d.version) for pk, d in by_id.items()}
    # only the current versions (give or take), and in no order: the default one would join the run to sort
    revisions = (
        Revision.objects.filter(deliverable_id__in=by_id, version__in={v for _, v in wanted})
        .select_related("author")  # provenance names the editor: joined, not a query per row
        .order_by()
    )
    for revision in revisions:
        if (revision.deliverable_id, revision.version) in wanted:
            by_id[revision.deliverable_id].current_revision = revision
    if not with_images:
        return deliverables
    images: dict = {}
    for asset in Asset.objects.filter(deliverable_id__in=by_id).order_by("created_at"):
        images.setdefault(asset.deliverable_id, []).append(asset)
    for pk, deliverable in by_id.items():
        deliverable.image_assets = images.get(pk, [])
    return deliverables


def run_deliverables_and_progress(run: Run) -> tuple[list[Deliverable], dict[str, int]]:
    """The generated deliverables of a run, in plan order, with their current revision, and its progress
    (as `run_progress`): one read of the run's slots (the envelope needs both)."""
    slots = list(run.deliverables.order_by("position"))
    ended = (Deliverable.Generation.DONE, Deliverable.Generation.FAILED)
    generated = [d for d in slots if d.generation_status == Deliverable.Generation.DONE]
    progress = {"done": sum(d.generation_status in ended for d in slots), "total": len(slots)}
    return with_current_revision(generated), progress


def run_progress(run: Run) -> dict[str, int]:
    counts = run.deliverables.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(generation_status__in=[Deliverable.Generation.DONE, Deliverable.Generation.FAILED])),
    )
    return {"done": counts["done"], "total": counts["total"]}


def revisions_of(deliverable: Deliverable) -> QuerySet[Revision]:
    return deliverable.revisions.select_related("author").order_by("-version")


def assets_for(user, *, brand_slug: str | None = None) -> QuerySet[Asset]:
    assets = Asset.objects.select_related("brand", "deliverable")
    if not user.is_superuser:
        assets = assets.filter(brand__in=brands_for(user))
    if brand_slug:
        assets = assets.filter(brand__slug=brand_slug)
    return assets


def run_wait(run: Run, seconds: float) -> Run:
    """Long-poll: re-read the run until it ends or `seconds` have passed."""
    deadline = clock.monotonic() + seconds
    while not run.is_terminal and clock.monotonic() < deadline:
        clock.sleep(min(0.2, max(deadline - clock.monotonic(), 0)))
        run.refresh_from_db()
    return run


def run_first_image(run: Run) -> Asset | None:
    """The run's first generated image (one query), for previews of posts that have none of their own."""
    return Asset.objects.filter(deliverable__run=run).order_by("created_at", "pk").first()


def rewrites_for(user) -> QuerySet[Rewrite]:
    """Rewrites of the deliverables of the user's brands."""
    rewrites = Rewrite.objects.select_related("deliverable__run__brand", "requested_by")
    return rewrites if user.is_superuser else rewrites.filter(deliverable__run__brand__in=brands_for(user))


# --- pages (dashboard) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotCounts:
    """Every slot of a run counted by generation status, and what the generated ones used so far."""

    pending: int
    running: int
    done: int
    failed: int
    tokens: int  # `tokens_used` of the generated slots
    cost: float | None  # their `cost_usd`; None while any of them has no known price

    @property
    def total(self) -> int:
        return self.pending + self.running + self.done + self.failed

    @property
    def finished(self) -> int:  # what the progress bar counts: generated or failed
        return self.done + self.failed


def run_slot_counts(run: Run) -> SlotCounts:
    """The whole run's progress, however many slots it has and whichever page of them is shown: one aggregate
    query (the figures are read from the slots' metadata in SQL, no row is loaded)."""
    generated = Q(generation_status=Deliverable.Generation.DONE)
    row = run.deliverables.aggregate(
        **{status: Count("pk", filter=Q(generation_status=status)) for status in Deliverable.Generation.values},
        tokens=Sum(Cast(KT("metadata__tokens_used"), FloatField()), filter=generated),
        cost=Sum(Cast(KT("metadata__cost_usd"), FloatField()), filter=generated),
        priced=Count(KT("metadata__cost_usd"), filter=generated),
    )
    return SlotCounts(
        pending=row["pending"],
        running=row["running"],
        done=row["done"],
        failed=row["failed"],
        tokens=round(row["tokens"] or 0),
        cost=(row["cost"] or 0.0) if row["priced"] == row["done"] else None,
    )


def run_leading_provider(run: Run) -> tuple[str | None, str | None]:
    """The provider and model that made most of a run's generated slots so far (as `run_totals` will settle
    them when the run ends): one query; (None, None) before any slot is generated."""
    leading = (
        run.deliverables.filter(generation_status=Deliverable.Generation.DONE)
        .values(provider=KT("metadata__provider"), model=KT("metadata__model"))
        .annotate(slots=Count("pk"))
        .order_by("-slots", "provider", "model")
        .first()
    )
    return (leading["provider"], leading["model"]) if leading else (None, None)


def run_slots_page(run: Run, *, number, per_page: int, total: int) -> Page:
    """One page of a run's slots in plan order (pending, running, failed and done); the done ones carry their
    current revision and images. `total` is the run's slot count (`run_slot_counts(run).total`), so the
    paginator asks for no COUNT of its own: three queries whatever the page and the run's size."""
    paginator = Paginator(run.deliverables.order_by("position"), per_page)
    paginator.count = total  # a cached_property: set, it is not counted again
    page = paginator.get_page(number)
    page.object_list = list(page.object_list)
    with_current_revision([d for d in page.object_list if d.generation_status == Deliverable.Generation.DONE])
    return page


def recent_runs_for(user, *, limit: int = 10, brand=None) -> list[Run]:
    """The user's latest runs (of one brand, if given) with `slots_done` / `slots_total` counted in the
    same query."""
    runs = runs_for(user) if brand is None else runs_for(user).filter(brand=brand)
    return list(
        runs.annotate(
            slots_total=Count("deliverables"),
            slots_done=Count(
                "deliverables",
                filter=Q(
                    deliverables__generation_status__in=[Deliverable.Generation.DONE, Deliverable.Generation.FAILED]
                ),
            ),
        ).order_by("-created_at")[:limit]
    )


def _approval_queue(user) -> QuerySet[Deliverable]:
    """In-review deliverables of the brands the user manages, oldest first. The run's `input_snapshot` (the brief and
    the whole brand kit) is not loaded: each row would decode it again. What the queue shows of it, the
    brief's product or campaign name (`run_brief_title`), is read in SQL."""
    brief = KeyTransform("brief", "run__input_snapshot")  # (KT() cannot follow a relation)
    empty = Value("", output_field=TextField())
    brief_title = Coalesce(
        NullIf(KeyTextTransform("product", brief), empty), NullIf(KeyTextTransform("campaign_name", brief), empty)
    )
    return (
        Deliverable.objects.filter(run__brand__in=brands_where(user, APPROVE))
        .select_related("run__campaign", "run__brand")
        .defer("run__input_snapshot")
        .annotate(run_brief_title=brief_title)
        .filter(status=Deliverable.Status.IN_REVIEW)
        .order_by("updated_at", "pk")
    )


def approval_queue_for(user, *, limit: int | None = None) -> list[Deliverable]:
    """The approval queue (the first `limit` of it) with each item's current revision (for the quality
    report). Two queries whatever its length."""
    queue = _approval_queue(user)
    return with_current_revision(list(queue[:limit] if limit else queue), with_images=False)


def approval_queue_page(user, *, number, per_page: int) -> Page:
    """One page of the approval queue, its items with their current revision: three queries (the count, the
    page, the revisions) whatever the page and the queue's length."""
    page = Paginator(_approval_queue(user), per_page).get_page(number)
    page.object_list = with_current_revision(list(page.object_list), with_images=False)
    return page


# --- operations: usage by brand, provider and month (manage.py usage_report) ---------------------------------


@dataclass(frozen=True)
class UsageRow:
    month: date  # the first day of the month (UTC)
    brand: str  # brand slug; "" for calls made outside any brand
    provider: str
    calls: int  # successful calls
    errors: int  # failed calls (skipped ones, in a drill or a cooldown, are not counted: nothing was sent)
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal  # of the priced calls
    unpriced: int  # successful calls whose model has no known price (their cost is not in cost_usd)

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


def provider_usage(*, since: date | None = None, brand_slug: str | None = None) -> list[UsageRow]:
    """Tokens and cost of provider calls by month, brand and provider (one query), oldest month first."""
    calls = ProviderCall.objects.exclude(outcome=ProviderCall.Outcome.SKIPPED)
    if since is not None:
        calls = calls.filter(created_at__gte=datetime(since.year, since.month, 1, tzinfo=UTC))
    if brand_slug:
        calls = calls.filter(brand__slug=brand_slug)
    ok = Q(outcome=ProviderCall.Outcome.OK)
    rows = (
        calls.annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .values("month", "brand__slug", "provider")
        .annotate(
            calls=Count("pk", filter=ok),
            errors=Count("pk", filter=~ok),
            # offline "usage" is template words, not tokens: never added to real token counts
            tokens_in=Sum("tokens_in", filter=~Q(provider=OFFLINE)),
            tokens_out=Sum("tokens_out", filter=~Q(provider=OFFLINE)),
            cost=Sum("cost_usd"),
            unpriced=Count("pk", filter=ok & Q(cost_usd__isnull=True)),
        )
        .order_by("month", "brand__slug", "provider")
    )
    return [
        UsageRow(
            month=row["month"].date(),
            brand=row["brand__slug"] or "",
            provider=row["provider"],
            calls=row["calls"],
            errors=row["errors"],
            tokens_in=row["tokens_in"] or 0,
            tokens_out=row["tokens_out"] or 0,
            cost_usd=row["cost"] or Decimal("0"),
            unpriced=row["unpriced"],
        )
        for row in rows
    ]


# --- saved ad assets (GET /api/v1/assets) ---------------------------------------------------------------------


def ad_assets_for(user, *, brand_slug: str | None = None) -> QuerySet[Deliverable]:
    """The saved ad assets a user may see: generated `ad_copy` deliverables of their brands (from the studio and
    from creatives runs), latest change first. Each carries `current_structured` (its current revision's
    headline, primary text, call to action and image prompts) and `image_assets` (its images, oldest first).
    Three queries per page whatever its length: the count, the page, the images."""
    current = Revision.objects.filter(deliverable=OuterRef("pk"), version=OuterRef("version"))
    assets = (
        deliverables_for(user)
        .filter(kind="ad_copy", generation_status=Deliverable.Generation.DONE)
        .annotate(current_structured=Subquery(current.values("structured")[:1], output_field=JSONField()))
        .prefetch_related(Prefetch("assets", queryset=Asset.objects.order_by("created_at"), to_attr="image_assets"))
        .order_by("-updated_at", "pk")
    )
    if brand_slug:
        assets = assets.filter(run__brand__slug=brand_slug)
    return assets


# --- spend (the home page) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrandSpend:
    name: str
    slug: str
    cost_usd: Decimal
    tokens: int
    calls: int
    unpriced_calls: int
    offline_calls: int = 0  # template drafts: counted apart, their words are not tokens
    budget_usd: Decimal | None = None  # the brand's monthly cap (None: no cap)
    budget_spent_usd: Decimal = Decimal("0")  # what counts against it (every paid call, failed ones included)

    @property
    def budget_left_usd(self) -> Decimal | None:
        return None if self.budget_usd is None else max(self.budget_usd - self.budget_spent_usd, Decimal("0"))

    @property
    def budget_spent(self) -> bool:
        return self.budget_usd is not None and self.budget_spent_usd >= self.budget_usd


def month_start(today: date | None = None) -> datetime:
    today = today or timezone.localdate()
    return timezone.make_aware(datetime.combine(today.replace(day=1), time.min))


def spend_this_month(user, *, today: date | None = None) -> list[BrandSpend]:
    """Cost, tokens and successful calls of this calendar month, per brand of the user (zero rows included)."""
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
    counted = dict(
        BrandMonthSpend.objects.filter(brand__in=brands, month=month_start(today).date()).values_list(
            "brand_id", "spent_usd"
        )
    )
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
                budget_usd=brand.monthly_budget_usd,
                budget_spent_usd=counted.get(brand.pk) or Decimal("0"),
                offline_calls=row.get("offline") or 0,
            )
        )
    return spend


def spend_series(user, *, days: int = 30, today: date | None = None) -> dict:
    """Daily cost and tokens of successful provider calls over the last `days` days, one series per
    (brand, provider). Answers {"days": [date…], "series": {(brand, provider): {date: (cost, tokens)}}}."""
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


# --- the inbox (what waits for me) ------------------------------------------------------------------------------


def changes_requested_of(user) -> QuerySet[Deliverable]:
    """Deliverables sent back for changes whose run the user requested or whose text they wrote."""
    if not getattr(user, "is_authenticated", False):
        return Deliverable.objects.none()
    return (
        deliverables_for(user)
        .filter(status=Deliverable.Status.CHANGES_REQUESTED)
        .filter(Q(run__requested_by=user) | Q(revisions__author=user))
        .distinct()
        .select_related("run__brand")
        .defer("run__input_snapshot")
        .order_by("updated_at", "pk")
    )


def inbox_for(user) -> dict:
    """The inbox page: reviews to do, changes requested of my work, unread notifications (mentions, client
    decisions, reminders) and the latest read ones."""
    notifications = Notification.objects.filter(user=user).select_related("deliverable").order_by("-created_at")
    return {
        "reviews": list(_approval_queue(user)[:50]),
        "changes": list(changes_requested_of(user)[:50]),
        "unread": list(notifications.filter(read_at=None)[:100]),
        "earlier": list(notifications.exclude(read_at=None)[:20]),
        "email_on": not NotificationSettings.objects.filter(user=user, email=False).exists(),
    }


class _Count(Subquery):
    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def inbox_count(user) -> int:
    """The number in the navigation: reviews to do + changes requested of my work + unread notifications, in one
    query (it is on every page)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    parts = (
        _approval_queue(user).values("pk"),
        changes_requested_of(user).values("pk"),
        Notification.objects.filter(user=user, read_at=None).values("pk"),
    )
    counts = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(**{f"c{i}": _Count(part.order_by()) for i, part in enumerate(parts)})
        .values_list("c0", "c1", "c2")
        .first()
    )
    return sum(counts or ())
