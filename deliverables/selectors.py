"""Reads of the deliverables app, scoped by brand membership and loaded in a constant number of queries."""

import time

from django.db.models import Count, Q, QuerySet

from campaigns.selectors import brands_for

from .models import Asset, Deliverable, Revision, Run


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
