"""The one writer of audit events (Saleor's `order/events.py` is the model): every transition, amend, export and
retry records who did what through these functions, with the action taken from `AuditAction`, never free text.
Call them inside the transaction of the change they record."""

from typing import Any

from .models import AuditAction, AuditEvent


def _record(
    action: AuditAction,
    *,
    actor,
    deliverable_id=None,
    run_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    revision: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        deliverable_id=deliverable_id,
        run_id=run_id,
        from_status=from_status,
        to_status=to_status,
        comment=comment or "",
        revision=revision,
        data=data or {},
    )


def deliverable_transitioned_event(
    *, deliverable, actor, action: AuditAction, from_status: str, to_status: str, comment: str = ""
) -> AuditEvent:
    """submit, approve or reject: the status moved from → to at the deliverable's current revision."""
    return _record(
        action,
        actor=actor,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        revision=deliverable.version,
    )


def deliverable_amended_event(
    *, deliverable, actor, from_status: str, from_version: int, note: str = "", studio_thread: str | None = None
) -> AuditEvent:
    """A person (or the studio, at a marketer's request) saved a new revision; the deliverable is a draft again."""
    data: dict[str, Any] = {"from_version": from_version}
    if studio_thread:
        data["studio_thread"] = studio_thread
    return _record(
        AuditAction.AMEND,
        actor=actor,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        from_status=from_status,
        to_status=deliverable.Status.DRAFT,
        comment=note,
        revision=from_version + 1,
        data=data,
    )


def deliverable_rewritten_event(
    *, deliverable, actor, from_status: str, revision: int, comment: str, data
) -> AuditEvent:
    """The improve loop rewrote it through the provider chain (`data`: the rewrite's id, action, options,
    provider and model); `revision` is the version it made (variants: the version they were made from)."""
    return _record(
        AuditAction.REWRITE,
        actor=actor,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        from_status=from_status,
        to_status=deliverable.Status.DRAFT if data.get("rewrite") != "variants" else from_status,
        comment=comment,
        revision=revision,
        data=dict(data),
    )


def deliverable_variant_created_event(*, deliverable, actor, variant_of, rewrite_id) -> AuditEvent:
    """A sibling deliverable made as an A/B variant of `variant_of`, as a draft at version 1."""
    return _record(
        AuditAction.VARIANT,
        actor=actor,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        to_status=deliverable.Status.DRAFT,
        revision=1,
        data={"variant_of": str(variant_of.pk), "rewrite_id": str(rewrite_id)},
    )


def run_exported_event(
    *, run, actor, fmt: str, approved_only: bool, stored_as: str = "", sha256: str = ""
) -> AuditEvent:
    """An export was handed out: its format, its scope, the copy kept in storage ("" when none) and its SHA-256."""
    return _record(
        AuditAction.EXPORT,
        actor=actor,
        run_id=run.pk,
        data={"format": fmt, "approved_only": approved_only, "file": stored_as, "sha256": sha256},
    )


def run_retried_event(*, run, actor, from_status: str, to_status: str, failed) -> AuditEvent:
    """Failed deliverables of a finished run sent back to the workers."""
    return _record(
        AuditAction.RETRY_FAILED,
        actor=actor,
        run_id=run.pk,
        from_status=from_status,
        to_status=to_status,
        data={"deliverables": [str(d.pk) for d in failed], "kinds": [d.kind for d in failed]},
    )


def _run_link(link) -> dict[str, str]:
    """An item of a whole-run link names the run link too (one token covers the run's deliverables)."""
    return {"run_review_link": str(link.run_link_id)} if link.run_link_id else {}


def review_link_sent_event(*, link, actor) -> AuditEvent:
    deliverable = link.deliverable
    return _record(
        AuditAction.REVIEW_LINK_SENT,
        actor=actor,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        revision=link.version,
        data={"review_link": str(link.pk), "expires_at": link.expires_at.isoformat(), **_run_link(link)},
    )


def review_link_revoked_event(*, link, actor) -> AuditEvent:
    deliverable = link.deliverable
    return _record(
        AuditAction.REVIEW_LINK_REVOKED,
        actor=actor,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        revision=link.version,
        data={"review_link": str(link.pk), **_run_link(link)},
    )


def client_decided_event(*, link, from_status: str, to_status: str) -> AuditEvent:
    """A client without an account decided through a review link: no actor, their name in `data`."""
    deliverable = link.deliverable
    action = AuditAction.CLIENT_APPROVED if link.decision == "approved" else AuditAction.CLIENT_CHANGES_REQUESTED
    return _record(
        action,
        actor=None,
        deliverable_id=deliverable.pk,
        run_id=deliverable.run_id,
        from_status=from_status,
        to_status=to_status,
        comment=link.comment,
        revision=link.version,
        data={"review_link": str(link.pk), "reviewer_name": link.reviewer_name, **_run_link(link)},
    )
