"""Helpers for the review workflow, export and admin tests: generated runs (offline provider, tasks inline)
and a snapshot of everything a refused action must leave unchanged."""

from decimal import Decimal

from campaigns.services import campaign_generate
from creatives.services import creatives_generate
from deliverables.models import AuditEvent, Deliverable, Revision, Run

BRIEF = {
    "campaign_name": "Q1 Launch",
    "objectives": ["Awareness"],
    "platforms": ["linkedin", "instagram"],
    "budget": Decimal("10000"),
    "timeline_days": 14,
    "audience": "",
    "key_message": "",
    "deliverables": [],
}


def generate_campaign(user, run_tasks_inline, *, brand=None, **brief) -> Run:
    """A campaign run with brief, framework, calendar, one post per platform and the email, all `draft` v1."""
    brand = brand or user.brands.get()
    with run_tasks_inline():
        run = campaign_generate(brand=brand, user=user, brief={**BRIEF, **brief}, trace_id="trace-review")
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS, run.error
    return run


def generate_creatives(user, run_tasks_inline, *, count=1, with_images=True) -> Run:
    brand = user.brands.get()
    with run_tasks_inline():
        run = creatives_generate(
            brand=brand,
            user=user,
            trace_id="trace-creatives",
            brief={
                "product": "Cold brew",
                "platforms": ["instagram"],
                "count": count,
                "with_images": with_images,
                "tone": "",
                "style": "",
                "pitch": "",
            },
        )
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS, run.error
    return run


def of_kind(run: Run, kind: str) -> Deliverable:
    return run.deliverables.get(kind=kind)


def set_status(deliverable: Deliverable, status: str) -> Deliverable:
    """Put a deliverable in a state directly (set-up only; the services are what is under test)."""
    Deliverable.objects.filter(pk=deliverable.pk).update(status=status)
    deliverable.refresh_from_db()
    return deliverable


def snapshot(deliverable: Deliverable) -> dict:
    """What a refused action must not change."""
    row = Deliverable.objects.get(pk=deliverable.pk)
    return {
        "status": row.status,
        "version": row.version,
        "title": row.title,
        "hashtags": row.hashtags,
        "metadata": row.metadata,
        "updated_at": row.updated_at,
        "revisions": Revision.objects.filter(deliverable=deliverable).count(),
        "audit_events": AuditEvent.objects.count(),
    }
