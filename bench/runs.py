"""Runs of exactly N deliverable slots, created through the product's services, and waiting for them."""

import time
import uuid

from .common import wait_until

# Campaign kinds whose answers stay under every platform limit (no "shorten" rewrite: one LLM call per slot).
_CAMPAIGN_PLATFORMS = ["linkedin", "instagram", "facebook", "tiktok", "threads", "twitter"]


def create_run(*, brand, user, slots: int, label: str):
    """A run of exactly `slots` deliverables: a campaign for up to 9, else ad creatives (up to 6) and posts; past
    12 (6 variants and a post on each of the 6 platforms, the largest run the forms and the API offer), more ad
    variants than the forms' 6, through the service."""
    from campaigns.services import campaign_generate, campaign_plan
    from creatives.services import creatives_generate, creatives_plan

    trace_id = uuid.uuid4().hex
    if slots <= 3:
        wanted = ["campaign_brief", "messaging_framework", "email_copy"][:slots]
        brief = _campaign_brief(label, platforms=[], wanted=wanted)
        assert len(campaign_plan(channels=[], wanted=wanted)) == slots
        return campaign_generate(brand=brand, user=user, brief=brief, trace_id=trace_id)
    if slots <= 9:  # brief, messaging framework, email, and one post per platform
        platforms = _CAMPAIGN_PLATFORMS[: slots - 3]
        wanted = ["campaign_brief", "messaging_framework", "email_copy", "social_posts"]
        assert len(campaign_plan(channels=platforms, wanted=wanted)) == slots
        return campaign_generate(
            brand=brand, user=user, brief=_campaign_brief(label, platforms, wanted), trace_id=trace_id
        )
    count = min(6, slots) if slots <= 12 else slots - len(_CAMPAIGN_PLATFORMS)
    platforms = _CAMPAIGN_PLATFORMS[: slots - count]
    brief = {
        "product": f"{label} cold brew",
        "platforms": platforms,
        "tone": "Warm",
        "style": "",
        "pitch": "",
        "count": count,
        "with_images": False,
        "deliverables": [],
    }
    assert len(creatives_plan(channels=platforms, count=count, with_images=False, wanted=None)) == slots
    return creatives_generate(brand=brand, user=user, brief=brief, trace_id=trace_id)


def _campaign_brief(label: str, platforms: list[str], wanted: list[str]) -> dict:
    return {
        "campaign_name": label,
        "objectives": ["Awareness", "Trial"],
        "platforms": platforms,
        "budget": None,
        "timeline_days": 30,
        "audience": "Urban professionals who love coffee",
        "key_message": "Freshly roasted, delivered weekly",
        "deliverables": wanted,
    }


def wait_terminal(run_pks: list[int], *, timeout_s: float, interval_s: float = 0.01) -> float | None:
    """Seconds until every run is terminal (polling the database), or None on timeout."""
    from deliverables.models import Run

    started = time.perf_counter()
    pending = set(run_pks)

    def done() -> bool:
        pending.difference_update(
            Run.objects.filter(pk__in=pending, status__in=Run.TERMINAL).values_list("pk", flat=True)
        )
        return not pending

    return time.perf_counter() - started if wait_until(done, timeout_s=timeout_s, interval_s=interval_s) else None


def check_runs(run_pks: list[int], *, provider: str = "openai") -> list[str]:
    """Problems with finished runs: not SUCCESS, a deliverable by another provider, more than one call a slot."""
    from deliverables.models import Deliverable, ProviderCall, Run

    problems = []
    for run in Run.objects.filter(pk__in=run_pks):
        slots = Deliverable.objects.filter(run=run).count()
        calls = ProviderCall.objects.filter(run=run).count()
        others = Deliverable.objects.filter(run=run).exclude(metadata__provider=provider).count()
        if run.status != Run.Status.SUCCESS or others or calls != slots:
            problems.append(
                f"run {run.run_id}: {run.status}, {slots} slots, {calls} calls, "
                f"{others} not by {provider}, error {run.error}"
            )
    return problems
