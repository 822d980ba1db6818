"""Writes of the creatives module: a product brief becomes a Run of ad creatives and platform posts."""

from collections.abc import Mapping
from typing import Any

from brands.models import Brand
from campaigns.models import Campaign
from deliverables.models import Module, Run
from deliverables.platforms import PLATFORMS, post_kind
from deliverables.services import Slot, run_create

CREATIVE_KINDS = ("ad_copy", "social_posts")


def creatives_plan(*, channels: list[str], count: int, with_images: bool, wanted: list[str] | None) -> list[Slot]:
    slots = [Slot("ad_copy", variant=i + 1 if count > 1 else None, with_image=with_images) for i in range(count)]
    slots += [Slot(post_kind(p), platform=p) for p in channels if p in PLATFORMS]
    if wanted:
        chosen = set(wanted)
        slots = [s for s in slots if s.kind in chosen or ("social_posts" in chosen and s.platform)]
    return slots


def creatives_generate(
    *, brand: Brand, user, brief: Mapping[str, Any], trace_id: str, campaign: Campaign | None = None
) -> Run:
    slots = creatives_plan(
        channels=list(brief.get("platforms") or []),
        count=brief.get("count") or 1,
        with_images=bool(brief.get("with_images")),
        wanted=brief.get("deliverables"),
    )
    snapshot = {**brief, "campaign": campaign.name if campaign else brief.get("campaign")}
    return run_create(
        module=Module.CREATIVES,
        brand=brand,
        campaign=campaign,
        requested_by=user,
        brief=snapshot,
        slots=slots,
        trace_id=trace_id,
    )


def creatives_start(*, brief: Mapping[str, Any], user, trace_id: str) -> Run:
    """A brief as the serializer validated it (with its brand and optional campaign) → `creatives_generate`."""
    brief = dict(brief)
    brand, campaign = brief.pop("brand"), brief.pop("campaign", None)
    return creatives_generate(brand=brand, user=user, brief=brief, trace_id=trace_id, campaign=campaign)
