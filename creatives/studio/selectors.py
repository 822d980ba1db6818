"""Reads of the studio. A conversation is personal: a marketer sees their own threads, of brands they belong to;
anything else is "not found"."""

from django.db.models import QuerySet

from brands.selectors import brands_for
from deliverables.models import Deliverable
from deliverables.selectors import with_current_revision

from ..models import StudioThread


def threads_for(user) -> QuerySet[StudioThread]:
    if not getattr(user, "is_authenticated", False):
        return StudioThread.objects.none()
    return StudioThread.objects.select_related("brand").filter(user=user, brand__in=brands_for(user))


def thread_for(user, thread_id) -> StudioThread | None:
    return threads_for(user).filter(pk=thread_id).first()


def thread_assets(thread: StudioThread) -> list[Deliverable]:
    """The concepts saved in this thread, latest change first, with their current revision and images
    (three queries whatever their number)."""
    if not thread.run_id:
        return []
    concepts = list(
        Deliverable.objects.filter(
            run_id=thread.run_id, kind="ad_copy", generation_status=Deliverable.Generation.DONE
        ).order_by("-updated_at")
    )
    return with_current_revision(concepts)
