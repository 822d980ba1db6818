"""Planning: a brief becomes a Run with one Deliverable slot per planned piece, saved in one transaction and
dispatched to the workers once it commits. The brief apps (campaigns, creatives) decide the slots and call
`run_create`; deliverables never imports them (they register in `deliverables.modules`)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from aicmo.core.errors import ApplicationError, PermissionDenied
from brands.budget import budget_check
from brands.models import Brand
from brands.roles import GENERATE, may

from ..kinds import spec_for
from ..models import Deliverable, Run
from .dispatch import run_dispatch


@dataclass(frozen=True)
class Slot:
    """One planned deliverable."""

    kind: str
    platform: str | None = None
    variant: int | None = None
    with_image: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


def run_create(
    *,
    module: str,
    brand: Brand,
    requested_by,
    brief: Mapping[str, Any],
    slots: Iterable[Slot],
    trace_id: str,
    campaign=None,
) -> Run:
    """Save the run and its slots in one transaction; enqueue the work once that transaction commits."""
    require_generate_permission(requested_by, brand)
    # 402 before any run exists: a spent budget makes no provider call. The budget is the brand row's, read by
    # this request (the brand was just resolved from the brief), so it is not read a second time.
    budget_check(brand.pk, budget=brand.monthly_budget_usd)
    slots = list(slots)
    if not slots:  # a run without slots would never be settled (and a SUCCESS needs a deliverable)
        raise nothing_to_generate()
    # Inside a caller's transaction (campaign_generate) no savepoint: an error here rolls the whole of it back,
    # which is what the caller wants (the campaign is not left behind), and two statements fewer.
    with transaction.atomic(savepoint=False):
        run = Run.objects.create(
            module=module,
            brand=brand,
            campaign=campaign,
            requested_by=requested_by,
            trace_id=trace_id,
            input_snapshot={
                "module": module,
                "brand": brand.kit(),
                "brief": dict(brief),
                "start_date": timezone.localdate().isoformat(),
            },
        )
        created = Deliverable.objects.bulk_create(
            [
                Deliverable(
                    run=run,
                    position=i,
                    kind=slot.kind,
                    platform=slot.platform,
                    title=spec_for(slot.kind).label,
                    metadata={"slot": {"variant": slot.variant, "with_image": slot.with_image, **slot.extra}},
                )
                for i, slot in enumerate(slots)
            ]
        )
        slot_pks = [d.pk for d in created]  # set by the model (UUIDs), known without reading them back
        transaction.on_commit(lambda: run_dispatch(run_pk=run.pk, slot_pks=slot_pks, new=True))
    if not transaction.get_connection().in_atomic_block:  # dispatched now: read it as dispatched (its warning)
        run.refresh_from_db()  # (inside a caller's transaction the dispatch waits for that; the caller reads it)
    return run


def require_generate_permission(user, brand: Brand) -> None:
    """Refuse (PermissionDenied, 403) a user without a role in the brand that allows generating."""
    if user is None or not may(user, brand.pk, GENERATE):
        raise PermissionDenied(f"Generating for {brand.name} needs the marketer or manager role in that brand.")


def nothing_to_generate() -> ApplicationError:
    """The refusal of an empty plan (e.g. only `social_posts` asked for, and no social platform)."""
    return ApplicationError(
        "Nothing to generate: none of the requested deliverables applies to this brief.",
        details={
            "deliverables": [
                "None of these deliverables applies to this brief (a post needs its platform in `platforms`)."
            ]
        },
    )
