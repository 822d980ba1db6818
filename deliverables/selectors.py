"""Reads of the deliverables app, scoped by brand membership and loaded in a constant number of queries."""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import Count, JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from campaigns.selectors import brands_for

from .models import Asset, Deliverable, ProviderCall, Revision, Run


def runs_for(user) -> QuerySet[Run]:
    """The runs a user may see: those of their brands (superusers: all)."""
    runs = Run.objects.select_related("brand", "campaign")
    return runs if user.is_superuser else runs.filter(brand__in=brands_for(user))


def deliverables_for(user) -> QuerySet[Deliverable]:
    deliverables = Deliverable.objects.select_related("run", "run__brand")
    return deliverables if user.is_superuser else deliverables.filter(run__brand__in=brands_for(user))


def with_current_revision(deliverables: list[Deliverable]) -> list[Deliverable]:
    """Attach `current_revision` and `image_assets` to each deliverable: two queries whatever the count."""
    by_id = {d.pk: d for d in deliverables}
    if not by_id:
        return deliverables
    revisions = Revision.objects.filter(deliverable_id__in=by_id)
    wanted = {(pk, d.version) for pk, d in by_id.items()}
    for revision in revisions:
        if (revision.deliverable_id, revision.version) in wanted:
            by_id[revision.deliverable_id].current_revision = revision
    images: dict = {}
    for asset in Asset.objects.filter(deliverable_id__in=by_id).order_by("created_at"):
        images.setdefault(asset.deliverable_id, []).append(asset)
    for pk, deliverable in by_id.items():
        deliverable.image_assets = images.get(pk, [])
    return deliverables


def run_deliverables(run: Run) -> list[Deliverable]:
    """The generated deliverables of a run, in plan order, with their current revision."""
    generated = list(run.deliverables.filter(generation_status=Deliverable.Generation.DONE).order_by("position"))
    return with_current_revision(generated)


def run_progress(run: Run) -> dict[str, int]:
    counts = run.deliverables.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(generation_status__in=[Deliverable.Generation.DONE,
                                                          Deliverable.Generation.FAILED])),
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
    deadline = time.monotonic() + seconds
    while not run.is_terminal and time.monotonic() < deadline:
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))
        run.refresh_from_db()
    return run


# --- pages (dashboard) ---------------------------------------------------------------------------------------

def run_slots(run: Run) -> list[Deliverable]:
    """Every slot of a run in plan order (pending, running, failed and done); the done ones carry their
    current revision and images. Three queries whatever the number of slots."""
    slots = list(run.deliverables.order_by("position"))
    with_current_revision([d for d in slots if d.generation_status == Deliverable.Generation.DONE])
    return slots


def recent_runs_for(user, *, limit: int = 10, brand=None) -> list[Run]:
    """The user's latest runs (of one brand, if given) with `slots_done` / `slots_total` counted in the
    same query."""
    runs = runs_for(user) if brand is None else runs_for(user).filter(brand=brand)
    return list(runs.annotate(
        slots_total=Count("deliverables"),
        slots_done=Count("deliverables", filter=Q(deliverables__generation_status__in=[
            Deliverable.Generation.DONE, Deliverable.Generation.FAILED])),
    ).order_by("-created_at")[:limit])


def approval_queue_for(user, *, limit: int | None = None) -> list[Deliverable]:
    """Deliverables waiting for review in the user's brands, oldest first, with their current revision
    (for the quality report). Three queries whatever the length of the queue."""
    queue = (deliverables_for(user).select_related("run__campaign")
             .filter(status=Deliverable.Status.IN_REVIEW).order_by("updated_at"))
    return with_current_revision(list(queue[:limit] if limit else queue))


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
    rows = (calls.annotate(month=TruncMonth("created_at", tzinfo=UTC))
            .values("month", "brand__slug", "provider")
            .annotate(calls=Count("pk", filter=ok), errors=Count("pk", filter=~ok), tokens_in=Sum("tokens_in"),
                      tokens_out=Sum("tokens_out"), cost=Sum("cost_usd"),
                      unpriced=Count("pk", filter=ok & Q(cost_usd__isnull=True)))
            .order_by("month", "brand__slug", "provider"))
    return [UsageRow(month=row["month"].date(), brand=row["brand__slug"] or "", provider=row["provider"],
                     calls=row["calls"], errors=row["errors"], tokens_in=row["tokens_in"] or 0,
                     tokens_out=row["tokens_out"] or 0, cost_usd=row["cost"] or Decimal("0"),
                     unpriced=row["unpriced"]) for row in rows]


# --- saved ad assets (GET /api/v1/assets) ---------------------------------------------------------------------

def ad_assets_for(user, *, brand_slug: str | None = None) -> QuerySet[Deliverable]:
    """The saved ad assets a user may see: generated `ad_copy` deliverables of their brands (from the studio and
    from creatives runs), latest change first. Each carries `current_structured` (its current revision's
    headline, primary text, call to action and image prompts) and `image_assets` (its images, oldest first).
    Three queries per page whatever its length: the count, the page, the images."""
    current = Revision.objects.filter(deliverable=OuterRef("pk"), version=OuterRef("version"))
    assets = (deliverables_for(user)
              .filter(kind="ad_copy", generation_status=Deliverable.Generation.DONE)
              .annotate(current_structured=Subquery(current.values("structured")[:1], output_field=JSONField()))
              .prefetch_related(Prefetch("assets", queryset=Asset.objects.order_by("created_at"),
                                         to_attr="image_assets"))
              .order_by("-updated_at", "pk"))
    if brand_slug:
        assets = assets.filter(run__brand__slug=brand_slug)
    return assets
