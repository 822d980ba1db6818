"""Writes of the campaigns module: a campaign brief becomes a Campaign and a generation Run."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from brands.models import Brand
from deliverables.models import Module, Run
from deliverables.platforms import EMAIL_CHANNEL, PLATFORMS, post_kind
from deliverables.services import Slot, nothing_to_generate, run_create

from .models import Campaign

CAMPAIGN_KINDS = ("campaign_brief", "messaging_framework", "content_calendar", "social_posts", "email_copy")


def campaign_plan(*, channels: list[str], wanted: list[str] | None) -> list[Slot]:
    """The slots of a campaign run: the strategy documents, one post per social platform, the email.
    `wanted` may narrow it to a subset of kinds ("social_posts" or a platform's "<platform>_post")."""
    social = [c for c in channels if c in PLATFORMS]
    slots = [Slot("campaign_brief"), Slot("messaging_framework")]
    if social:
        slots.append(Slot("content_calendar"))
    slots += [Slot(post_kind(p), platform=p) for p in social]
    slots.append(Slot("email_copy"))
    if wanted:
        chosen = set(wanted)
        slots = [s for s in slots if s.kind in chosen or ("social_posts" in chosen and s.platform)]
    return slots


def campaign_generate(*, brand: Brand, user, brief: Mapping[str, Any], trace_id: str) -> Run:
    channels = list(brief.get("platforms") or [])
    slots = campaign_plan(channels=channels, wanted=brief.get("deliverables"))
    if not slots:  # refused before the campaign is saved
        raise nothing_to_generate()
    # One transaction: if the run is refused, the campaign is not left behind. The run's dispatch (an
    # on_commit callback) now waits for this outer commit, so the run is read again after it.
    with transaction.atomic():
        campaign = Campaign.objects.create(
            brand=brand,
            name=brief["campaign_name"],
            objectives=list(brief.get("objectives") or []),
            platforms=channels,
            budget=brief.get("budget"),
            timeline_days=brief.get("timeline_days") or 30,
            audience=brief.get("audience") or "",
            key_message=brief.get("key_message") or "",
            created_by=user,
        )
        snapshot = {
            **brief,
            "budget": str(brief["budget"]) if brief.get("budget") is not None else None,
            "platforms": [c for c in channels if c != EMAIL_CHANNEL] or channels,
        }
        run = run_create(
            module=Module.CAMPAIGNS,
            brand=brand,
            campaign=campaign,
            requested_by=user,
            brief=snapshot,
            slots=slots,
            trace_id=trace_id,
        )
    run.refresh_from_db()  # as dispatched: e.g. with the broker down, its warning
    return run


def campaign_start(*, brief: Mapping[str, Any], user, trace_id: str) -> Run:
    """A brief as the serializer validated it (with its brand) → `campaign_generate`."""
    brief = dict(brief)
    brand = brief.pop("brand")
    return campaign_generate(brand=brand, user=user, brief=brief, trace_id=trace_id)
