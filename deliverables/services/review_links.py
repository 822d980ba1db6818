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
from ..models import Deliverable, Notification, ReviewLink, Revision, Run, RunReviewLink
from .notifications import managers_of, notify, team_of
from .webhooks import webhook_emit
from .workflow import deliverable_event_data

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
    _check_hours(expires_in_hours)
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


def _check_hours(expires_in_hours: int) -> None:
    if not 1 <= expires_in_hours <= settings.AICMO_REVIEW_LINK_MAX_HOURS:
        raise ApplicationError(
            f"expires_in_hours must be between 1 and {settings.AICMO_REVIEW_LINK_MAX_HOURS}.",
            details={
                "expires_in_hours": [f"Ensure this value is between 1 and {settings.AICMO_REVIEW_LINK_MAX_HOURS}."]
            },
        )


def review_link_revoke(*, link_id, actor) -> ReviewLink | RunReviewLink:
    """Revoke a deliverable's link or a whole run's (the same `DELETE /api/v1/review-links/<id>`)."""
    run_link = RunReviewLink.objects.select_related("run").filter(pk=link_id).first()
    if run_link is not None:
        return _run_link_revoke(run_link, actor)
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


def _decision_errors(decision: str, name: str, comment: str) -> dict[str, list[str]]:
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
    return errors


def _clean(name: str, comment: str) -> tuple[str, str]:
    return " ".join((name or "").split()), (comment or "").strip()


def review_link_decide(*, token: str, decision: str, name: str, comment: str) -> ReviewLink:
    """Record the client's decision, once. Requesting changes sends an in-review deliverable back
    (in_review → changes_requested); approving is recorded for the team, whose manager approves."""
    name, comment = _clean(name, comment)
    errors = _decision_errors(decision, name, comment)
    link = review_link_open(token=token)
    if errors:
        raise ApplicationError("The decision needs a few fixes.", details=errors)
    with transaction.atomic():
        if not _claim(link, decision=decision, name=name, comment=comment, now=timezone.now()):
            link.refresh_from_db()
            link.deliverable.refresh_from_db()
            raise LinkGone(gone_reason(link) or "This review link can no longer be used.")
        _apply(link, notify_team=True)
    return link


def _claim(link: ReviewLink, *, decision: str, name: str, comment: str, now) -> bool:
    """One conditional update claims the link (or a run link's item): a second submit, an edit or a revoke in
    between finds nothing and changes nothing."""
    return bool(
        ReviewLink.objects.filter(
            pk=link.pk, revoked_at=None, decided_at=None, expires_at__gt=now, deliverable__version=link.version
        ).update(decided_at=now, decision=decision, reviewer_name=name, comment=comment)
    )


def _apply(link: ReviewLink, *, notify_team: bool) -> None:
    """What a claimed decision does: the workflow move, the audit event, the webhook and the team's notice."""
    link.refresh_from_db()
    deliverable = link.deliverable
    name, comment, decision, now = link.reviewer_name, link.comment, link.decision, link.decided_at
    from_status = to_status = deliverable.status
    if decision == ReviewLink.Decision.CHANGES_REQUESTED and Deliverable.objects.filter(
        pk=deliverable.pk, status=Deliverable.Status.IN_REVIEW, version=link.version
    ).update(status=Deliverable.Status.CHANGES_REQUESTED, updated_at=now):
        to_status = Deliverable.Status.CHANGES_REQUESTED
    client_decided_event(link=link, from_status=from_status, to_status=to_status)
    if to_status != from_status:
        webhook_emit(
            brand_id=deliverable.run.brand_id,
            event="deliverable.changes_requested",
            data=deliverable_event_data(deliverable, status=to_status, actor=f"client: {name}", comment=comment),
        )
    if not notify_team:
        return
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


# --- a whole run sent at once --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentRunLink:
    link: RunReviewLink
    token: str  # shown once, never stored


@dataclass(frozen=True)
class RunReview:
    """What the client of a run link sees: each item (one deliverable, the revision sent) with its state."""

    link: RunReviewLink
    items: list  # ReviewLink items, each with `.state` ("open" | "decided" | "changed") and `.revision`

    @property
    def open_items(self) -> list:
        return [item for item in self.items if item.state == "open"]


def run_review_link_create(*, run: Run, actor, expires_in_hours: int = DEFAULT_HOURS) -> SentRunLink:
    """A link to every generated deliverable of the run, each at its current revision."""
    current = Run.objects.filter(pk=run.pk).first()
    if current is None or roles.role_in(actor, current.brand_id) is None:
        raise NotFound("No such run.")
    if not roles.may(actor, current.brand_id, roles.APPROVE):
        raise PermissionDenied("Only a manager of this brand may send it to a client.")
    _check_hours(expires_in_hours)
    deliverables = list(
        current.deliverables.filter(generation_status=Deliverable.Generation.DONE, version__gte=1).order_by("position")
    )
    if not deliverables:
        raise ApplicationError("Nothing in this run has been generated yet: there is nothing to send.")
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=expires_in_hours)
    with transaction.atomic():
        run_link = RunReviewLink.objects.create(
            run=current, token_hash=token_hash(token), created_by=actor, expires_at=expires_at
        )
        items = ReviewLink.objects.bulk_create(
            [
                ReviewLink(
                    deliverable=d,
                    run_link=run_link,
                    token_hash=None,
                    version=d.version,
                    created_by=actor,
                    expires_at=expires_at,
                )
                for d in deliverables
            ]
        )
        for item, deliverable in zip(items, deliverables, strict=True):
            item.deliverable = deliverable
            review_link_sent_event(link=item, actor=actor)
    return SentRunLink(link=run_link, token=token)


def _run_link_revoke(run_link: RunReviewLink, actor) -> RunReviewLink:
    if roles.role_in(actor, run_link.run.brand_id) is None:
        raise NotFound("No such review link.")
    if not roles.may(actor, run_link.run.brand_id, roles.APPROVE):
        raise PermissionDenied("Only a manager of this brand may revoke its review links.")
    now = timezone.now()
    with transaction.atomic():
        if RunReviewLink.objects.filter(pk=run_link.pk, revoked_at=None).update(revoked_at=now):
            pending = list(run_link.items.filter(revoked_at=None, decided_at=None).select_related("deliverable"))
            ReviewLink.objects.filter(pk__in=[item.pk for item in pending], revoked_at=None, decided_at=None).update(
                revoked_at=now
            )  # an item the client decided meanwhile keeps its decision
            for item in pending:
                review_link_revoked_event(link=item, actor=actor)
    run_link.refresh_from_db()
    return run_link


def _item_state(item: ReviewLink) -> str:
    if item.decided_at:
        return "decided"
    if item.deliverable.version != item.version:
        return "changed"
    return "open"


def run_review_link_open(*, token: str) -> RunReview:
    """The live run link for `token` with its items; NotFound for an unknown token, LinkGone for a dead one
    (expired, revoked, or nothing left to decide: every item decided or changed since it was sent)."""
    link = RunReviewLink.objects.select_related("run__brand").filter(token_hash=token_hash(token or "")).first()
    if link is None:
        raise NotFound("No such review link.")
    review = _run_review(link)
    reason = run_gone_reason(review)
    if reason:
        raise LinkGone(reason)
    return review


def _run_review(link: RunReviewLink) -> RunReview:
    items = list(link.items.select_related("deliverable").order_by("deliverable__position"))
    revisions = {
        (r.deliverable_id, r.version): r
        for r in Revision.objects.filter(
            deliverable_id__in=[i.deliverable_id for i in items], version__in={i.version for i in items}
        )
    }
    for item in items:
        item.state = _item_state(item)
        item.revision = revisions.get((item.deliverable_id, item.version))
    return RunReview(link=link, items=items)


def run_gone_reason(review: RunReview, now=None) -> str:
    now = now or timezone.now()
    if review.link.revoked_at:
        return "This review link was withdrawn by the team."
    if review.link.expires_at <= now:
        return "This review link has expired. Ask the team for a new one."
    if not review.open_items:
        if any(item.state == "changed" for item in review.items):
            return "Nothing is left to decide here: the rest changed since this link was sent. Ask for a new link."
        return "This review link has been used: every decision was recorded."
    return ""


def _run_name(run: Run) -> str:
    brief = (run.input_snapshot or {}).get("brief") or {}
    return brief.get("product") or brief.get("campaign_name") or f"{run.module.capitalize()} run"


def run_review_link_decide(
    *, token: str, decision: str, name: str, comment: str, deliverable_id: str = ""
) -> tuple[RunReview, list[ReviewLink]]:
    """Record the client's decision on one deliverable of the run (`deliverable_id`) or on every one still open
    (no `deliverable_id`, or "all"). Each is claimed as a single link's decision is: once, and only while the
    deliverable is at the revision the link shows. Nothing changes when nothing could be claimed (410)."""
    name, comment = _clean(name, comment)
    errors = _decision_errors(decision, name, comment)
    review = run_review_link_open(token=token)
    if deliverable_id and deliverable_id != "all":
        targets = [item for item in review.items if str(item.deliverable_id) == str(deliverable_id)]
        if not targets:
            errors["deliverable"] = ["That deliverable is not part of this review."]
        elif targets[0].state != "open":
            raise LinkGone(
                "Your decision on this one was already recorded."
                if targets[0].state == "decided"
                else "This text changed since the link was sent. Ask the team for a link to the new version."
            )
    else:
        targets = review.open_items
    if errors:
        raise ApplicationError("The decision needs a few fixes.", details=errors)
    now = timezone.now()
    with transaction.atomic():
        claimed = [
            item
            for item in targets
            if RunReviewLink.objects.filter(pk=review.link.pk, revoked_at=None, expires_at__gt=now).exists()
            and _claim(item, decision=decision, name=name, comment=comment, now=now)
        ]
        if not claimed:
            raise LinkGone(run_gone_reason(_run_review(review.link)) or "This review link can no longer be used.")
        for item in claimed:
            _apply(item, notify_team=len(claimed) == 1)
        if len(claimed) > 1:
            verb = "approved" if decision == ReviewLink.Decision.APPROVED else "requested changes to"
            run = review.link.run
            notify(
                users=[*team_of(run.brand_id)] if decision != "approved" else [*managers_of(run.brand_id)],
                kind=Notification.Kind.CLIENT_DECISION,
                deliverable=claimed[0].deliverable,
                text=f"Client {name} {verb} {len(claimed)} deliverables of “{_run_name(run)}”"
                + (f": {comment[:200]}" if comment else ""),
            )
    return _run_review(review.link), claimed


def review_links_sweep(now=None) -> dict[str, int]:
    """Beat: remind the sender a day before a link expires undecided, and tell them once when it expired."""
    now = now or timezone.now()
    live = ReviewLink.objects.filter(run_link=None, revoked_at=None, decided_at=None).select_related(
        "deliverable", "created_by"
    )
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
    undecided = RunReviewLink.objects.filter(
        revoked_at=None, expiry_noticed_at=None, expires_at__lte=now + timedelta(hours=24), items__decided_at=None
    ).distinct()
    for run_link in undecided.select_related("run", "created_by"):
        first = run_link.items.select_related("deliverable").first()
        name = _run_name(run_link.run)
        if (
            run_link.reminded_at is None
            and now < run_link.expires_at <= now + timedelta(hours=24)
            and RunReviewLink.objects.filter(pk=run_link.pk, reminded_at=None).update(reminded_at=now)
        ):
            notify(
                users=[run_link.created_by],
                kind=Notification.Kind.REVIEW_LINK_REMINDER,
                deliverable=first.deliverable if first else None,
                text=f"The client has not finished reviewing “{name}”; the link expires "
                f"{run_link.expires_at:%b %d %H:%M} UTC.",
            )
            reminded += 1
        if (
            run_link.expiry_noticed_at is None
            and run_link.expires_at <= now
            and RunReviewLink.objects.filter(pk=run_link.pk, expiry_noticed_at=None).update(expiry_noticed_at=now)
        ):
            notify(
                users=[run_link.created_by],
                kind=Notification.Kind.REVIEW_LINK_REMINDER,
                deliverable=first.deliverable if first else None,
                text=f"The review link for “{name}” expired before every decision was made.",
            )
            expired += 1
    return {"reminded": reminded, "expired": expired}
