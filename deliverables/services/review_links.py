"""Client review links (contract §5): a manager sends one revision of a deliverable to someone without an
account; they approve it or request changes, once. Only the token's SHA-256 is stored, so a database
leak does not leak working links. A link is dead (410) once it expired, was revoked, was used, or the
deliverable moved to another revision since it was sent: the decision is about the text the client read."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aicmo.core.errors import ApplicationError, NotFound, PermissionDenied
from brands import roles

from ..events import client_decided_event, review_link_revoked_event, review_link_sent_event
from ..models import Deliverable, Notification, ReviewLink
from .notifications import managers_of, notify, team_of
from .webhooks import webhook_emit

DEFAULT_HOURS = 72
NAME_MAX, COMMENT_MAX = 120, 5000


class LinkGone(ApplicationError):
    http_status = 410
    code = "gone"


@dataclass(frozen=True)
class SentLink:
    link: ReviewLink
    token: str  # shown once, never stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def review_link_create(*, deliverable: Deliverable, actor, expires_in_hours: int = DEFAULT_HOURS) -> SentLink:
    """A new link to the deliverable's current revision, valid for `expires_in_hours` (1–720)."""
    current = Deliverable.objects.select_related("run__brand").filter(pk=deliverable.pk).first()
    if current is None or roles.role_in(actor, current.run.brand_id) is None:
        raise NotFound("No such deliverable.")
    if not roles.may(actor, current.run.brand_id, roles.APPROVE):
        raise PermissionDenied("Only a manager of this brand may send it to a client.")
    if not 1 <= expires_in_hours <= settings.AICMO_REVIEW_LINK_MAX_HOURS:
        raise ApplicationError(
            "expires_in_hours must be between 1 and 720.",
            details={
                "expires_in_hours": [f"Ensure this value is between 1 and {settings.AICMO_REVIEW_LINK_MAX_HOURS}."]
            },
        )
    if current.generation_status != Deliverable.Generation.DONE or current.version < 1:
        raise ApplicationError("It has not been generated yet: there is nothing to send.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = ReviewLink.objects.create(
            deliverable=current,
            token_hash=token_hash(token),
            version=current.version,
            created_by=actor,
            expires_at=timezone.now() + timedelta(hours=expires_in_hours),
        )
        review_link_sent_event(link=link, actor=actor)
    return SentLink(link=link, token=token)


def review_link_revoke(*, link_id, actor) -> ReviewLink:
    link = ReviewLink.objects.select_related("deliverable__run").filter(pk=link_id).first()
    if link is None or roles.role_in(actor, link.deliverable.run.brand_id) is None:
        raise NotFound("No such review link.")
    if not roles.may(actor, link.deliverable.run.brand_id, roles.APPROVE):
        raise PermissionDenied("Only a manager of this brand may revoke its review links.")
    with transaction.atomic():
        if ReviewLink.objects.filter(pk=link.pk, revoked_at=None, decided_at=None).update(revoked_at=timezone.now()):
            review_link_revoked_event(link=link, actor=actor)
    link.refresh_from_db()
    return link


def review_link_open(*, token: str) -> ReviewLink:
    """The live link for `token`, with its deliverable; NotFound for an unknown token, LinkGone for a dead one."""
    link = (
        ReviewLink.objects.select_related("deliverable__run__brand").filter(token_hash=token_hash(token or "")).first()
    )
    if link is None:
        raise NotFound("No such review link.")
    reason = gone_reason(link)
    if reason:
        raise LinkGone(reason)
    return link


def gone_reason(link: ReviewLink, now=None) -> str:
    now = now or timezone.now()
    if link.revoked_at:
        return "This review link was withdrawn by the team."
    if link.decided_at:
        return "This review link has been used: the decision was recorded."
    if link.expires_at <= now:
        return "This review link has expired. Ask the team for a new one."
    if link.deliverable.version != link.version:
        return "The text changed since this link was sent. Ask the team for a link to the new version."
    return ""


def review_link_decide(*, token: str, decision: str, name: str, comment: str) -> ReviewLink:
    """Record the client's decision, once. Requesting changes sends an in-review deliverable back
    (in_review → changes_requested); approving is recorded for the team, whose manager approves."""
    name, comment = " ".join((name or "").split()), (comment or "").strip()
    errors = {}
    if decision not in ReviewLink.Decision.values:
        errors["decision"] = ["Choose approve or request changes."]
    if not name:
        errors["name"] = ["Please give your name."]
    elif len(name) > NAME_MAX:
        errors["name"] = [f"At most {NAME_MAX} characters."]
    if decision == ReviewLink.Decision.CHANGES_REQUESTED and not comment:
        errors["comment"] = ["Say what should change."]
    if len(comment) > COMMENT_MAX:
        errors["comment"] = [f"At most {COMMENT_MAX} characters."]
    link = review_link_open(token=token)
    if errors:
        raise ApplicationError("The decision needs a few fixes.", details=errors)
    deliverable = link.deliverable
    now = timezone.now()
    with transaction.atomic():
        # One conditional update claims the link: a second submit (or a revoke in between) finds nothing.
        claimed = ReviewLink.objects.filter(
            pk=link.pk, revoked_at=None, decided_at=None, expires_at__gt=now, deliverable__version=link.version
        ).update(decided_at=now, decision=decision, reviewer_name=name, comment=comment)
        if not claimed:
            link.refresh_from_db()
            deliverable.refresh_from_db()
            raise LinkGone(gone_reason(link) or "This review link can no longer be used.")
        link.refresh_from_db()
        from_status = to_status = deliverable.status
        if decision == ReviewLink.Decision.CHANGES_REQUESTED and Deliverable.objects.filter(
            pk=deliverable.pk, status=Deliverable.Status.IN_REVIEW, version=link.version
        ).update(status=Deliverable.Status.CHANGES_REQUESTED, updated_at=now):
            to_status = Deliverable.Status.CHANGES_REQUESTED
        client_decided_event(link=link, from_status=from_status, to_status=to_status)
        if to_status != from_status:
            from .workflow import deliverable_event_data

            webhook_emit(
                brand_id=deliverable.run.brand_id,
                event="deliverable.changes_requested",
                data=deliverable_event_data(deliverable, status=to_status, actor=f"client: {name}", comment=comment),
            )
        verb = "approved" if decision == ReviewLink.Decision.APPROVED else "requested changes to"
        notify(
            users=[*team_of(deliverable.run.brand_id)]
            if decision != "approved"
            else [*managers_of(deliverable.run.brand_id)],
            kind=Notification.Kind.CLIENT_DECISION,
            deliverable=deliverable,
            text=f"Client {name} {verb} “{deliverable.title}” (version {link.version})"
            + (f": {comment[:200]}" if comment else ""),
        )
    return link


def review_links_sweep(now=None) -> dict[str, int]:
    """Beat: remind the sender a day before a link expires undecided, and tell them once when it expired."""
    now = now or timezone.now()
    live = ReviewLink.objects.filter(revoked_at=None, decided_at=None).select_related("deliverable", "created_by")
    reminded = expired = 0
    for link in live.filter(reminded_at=None, expires_at__gt=now, expires_at__lte=now + timedelta(hours=24)):
        if ReviewLink.objects.filter(pk=link.pk, reminded_at=None).update(reminded_at=now):
            notify(
                users=[link.created_by],
                kind=Notification.Kind.REVIEW_LINK_REMINDER,
                deliverable=link.deliverable,
                text=f"The client has not answered the review link for “{link.deliverable.title}”; it expires "
                f"{link.expires_at:%b %d %H:%M} UTC.",
            )
            reminded += 1
    for link in live.filter(expiry_noticed_at=None, expires_at__lte=now):
        if ReviewLink.objects.filter(pk=link.pk, expiry_noticed_at=None).update(expiry_noticed_at=now):
            notify(
                users=[link.created_by],
                kind=Notification.Kind.REVIEW_LINK_REMINDER,
                deliverable=link.deliverable,
                text=f"The review link for “{link.deliverable.title}” expired without an answer.",
            )
            expired += 1
    return {"reminded": reminded, "expired": expired}
