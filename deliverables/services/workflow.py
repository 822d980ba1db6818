"""The review workflow (contract §7): `draft → in_review → approved`, `in_review → changes_requested`, and
amends, each a new immutable Revision, that bring a `changes_requested` or `approved` deliverable back to
`draft` (an approved text that changes needs approval again).

Every function is one transaction whose write is a conditional UPDATE on the state the caller saw (status,
and for amends the version): zero rows means someone moved first, and the caller gets a `Conflict` naming
the state it is really in. Each write adds one AuditEvent. Amending is refused while a deliverable is
`in_review`: the reviewer must be looking at the text they approve, so a pending review is answered first
(reject it to get `changes_requested`, then amend)."""

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from aicmo.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from brands import roles

from ..events import deliverable_amended_event, deliverable_transitioned_event
from ..kinds import render_calendar
from ..models import AuditAction, Deliverable, Notification, Revision, Run
from ..platforms import PLATFORMS, normalize_channel
from ..quality import is_text_warning
from .notifications import managers_of, notify, writers_of
from .revisions import revision_create
from .webhooks import webhook_emit

Status = Deliverable.Status

AMENDABLE = (Status.DRAFT, Status.CHANGES_REQUESTED, Status.APPROVED)
ACTIONS = ("amend", "submit", "approve", "reject")
REFUSALS = {  # why an action is refused to a member whose role in the brand does not allow it
    "amend": "Amending needs the marketer or manager role in this brand.",
    "submit": "Submitting for review needs the marketer or manager role in this brand.",
    "approve": "Only a manager of this brand may approve its deliverables.",
    "reject": "Only a manager of this brand may reject its deliverables.",
}
# One transition table: the action, the status it starts from and the status it leads to. Amends start from
# any of AMENDABLE and lead back to draft.
TRANSITIONS = {
    "submit": (Status.DRAFT, Status.IN_REVIEW),
    "approve": (Status.IN_REVIEW, Status.APPROVED),
    "reject": (Status.IN_REVIEW, Status.CHANGES_REQUESTED),
}
TRANSITION_EVENTS = {
    "submit": "deliverable.submitted",
    "approve": "deliverable.approved",
    "reject": "deliverable.changes_requested",
}
SELF_APPROVAL_REFUSAL = (
    "You wrote the current revision: another manager must approve it (this brand does not allow self-approval)."
)

TITLE_MAX = 240
NOTE_MAX = 500
HASHTAG = re.compile(r"^#?\w{1,99}$")


# --- amending ------------------------------------------------------------------------------------------------


def deliverable_amend(
    *,
    deliverable: Deliverable,
    actor,
    version: int,
    content_markdown: str,
    title: str | None = None,
    hashtags: list[str] | None = None,
    note: str = "",
    entries: list[Mapping[str, Any]] | None = None,
) -> Revision:
    """Save a new revision (version + 1, by `actor`, with its quality report) and make it current.

    `version` is the version the actor edited: a stale one is a Conflict (someone else amended first).
    `title` and `hashtags` default to the current revision's. The deliverable goes back to `draft`. A content
    calendar may be amended entry by entry: `entries` (date, platform, title, text) become its table."""
    current = _load(deliverable, actor)
    deliverable_permission_check(actor=actor, action="amend", deliverable=current)
    content = (content_markdown or "").strip()
    if entries is not None and current.kind == "content_calendar":
        content = content or "(entries)"  # the table is rendered from the entries below
    if not content:
        raise ApplicationError(
            "The content must not be blank.", details={"content_markdown": ["This field may not be blank."]}
        )
    if len(note) > NOTE_MAX:
        raise ApplicationError(
            f"The note is too long (at most {NOTE_MAX} characters).",
            details={"note": [f"Ensure this field has no more than {NOTE_MAX} characters."]},
        )
    if current.status == Status.IN_REVIEW:
        raise Conflict(
            "It is in review: a manager must approve or reject it before it can be amended.",
            details={"status": current.status},
        )
    if version != current.version:
        raise _stale(current.version, version)

    previous = Revision.objects.get(deliverable_id=current.pk, version=current.version)
    new_title = previous.title if title is None else _clean_title(title)
    tags = list(previous.hashtags) if hashtags is None else _clean_hashtags(hashtags)
    if entries is not None and current.kind == "content_calendar":
        structured = {**previous.structured, "entries": _clean_entries(entries)}
        content = render_calendar(new_title, structured["entries"])
    else:
        structured = _structured_after_amend(current.kind, previous.structured, content)

    def event() -> None:
        deliverable_amended_event(
            deliverable=current, actor=actor, from_status=current.status, from_version=version, note=note
        )

    revision = deliverable_revise(
        deliverable=current,
        from_version=version,
        content_markdown=content,
        title=new_title,
        hashtags=tags,
        structured=structured,
        author=actor,
        note=note,
        record_event=event,
    )
    deliverable.refresh_from_db()
    return revision


def deliverable_revise(
    *,
    deliverable: Deliverable,
    from_version: int,
    content_markdown: str,
    title: str,
    hashtags: list[str],
    structured: Mapping[str, Any],
    author,
    record_event,
    provider: str = "",
    model: str = "",
    note: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> Revision:
    """Make a new text current (amends and rewrites): version + 1 through `revision_create`, the deliverable
    back to `draft`, and the audit event `record_event()` writes, in one transaction whose write is conditional
    on the version and status the caller read (`deliverable` as loaded by the caller). Warnings about the
    previous text (over a limit) are dropped from the deliverable and its run: the new revision's quality
    report replaces them, so nothing stale shows on the run, the details card or in exports."""
    stale = [w for w in deliverable.metadata.get("warnings") or [] if is_text_warning(w)]
    new_metadata = {**deliverable.metadata, **(metadata or {}), **structured}
    new_metadata["warnings"] = [w for w in new_metadata.get("warnings") or [] if not is_text_warning(w)]
    with transaction.atomic():
        updated = Deliverable.objects.filter(
            pk=deliverable.pk,
            version=from_version,
            status=deliverable.status,
            generation_status=Deliverable.Generation.DONE,
        ).update(
            version=from_version + 1,
            status=Status.DRAFT,
            title=title,
            hashtags=hashtags,
            metadata=new_metadata,
            updated_at=timezone.now(),
        )
        if not updated:
            raise _amend_refusal(deliverable.pk, from_version)
        revision = revision_create(
            deliverable=deliverable,
            version=from_version + 1,
            title=title,
            content_markdown=content_markdown,
            hashtags=hashtags,
            structured=structured,
            brand_kit=deliverable.run.input_snapshot.get("brand") or {},
            author=author,
            provider=provider,
            model=model,
            note=note[:NOTE_MAX],
        )
        record_event()
        if stale:
            _drop_run_warnings(deliverable.run_id, [f"{deliverable.kind}: {w}" for w in stale])
    return revision


def _drop_run_warnings(run_pk: int, warnings: list[str]) -> None:
    run = Run.objects.select_for_update().get(pk=run_pk)
    kept = [w for w in run.warnings if w not in warnings]
    if kept != run.warnings:
        run.warnings = kept
        run.save(update_fields=["warnings", "updated_at"])


def _clean_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ApplicationError("The title must not be blank.", details={"title": ["This field may not be blank."]})
    if len(cleaned) > TITLE_MAX:
        raise ApplicationError(
            f"The title is too long (at most {TITLE_MAX} characters).",
            details={"title": [f"Ensure this field has no more than {TITLE_MAX} characters."]},
        )
    return cleaned


def _clean_hashtags(hashtags: Sequence[str]) -> list[str]:
    """'#Coffee', 'coffee' → '#Coffee', '#coffee'; each once (first spelling kept); words only."""
    tags: list[str] = []
    bad = [tag for tag in hashtags if not isinstance(tag, str) or not HASHTAG.match(tag.strip())]
    if bad:
        raise ApplicationError(
            "Hashtags are single words, optionally starting with #.",
            details={"hashtags": [f"Not a hashtag: {tag!r}" for tag in bad]},
        )
    for tag in hashtags:
        tag = tag.strip()
        tag = tag if tag.startswith("#") else f"#{tag}"
        if tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tags


ENTRY_TITLE_MAX = 120
ENTRIES_MAX = 200


def _clean_entries(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Calendar entries as a person edited them: each needs a date (YYYY-MM-DD), a known platform, a title and
    a text. Refused with one message per bad entry (numbered from 1, as the page shows them)."""
    if not entries:
        raise ApplicationError("A calendar needs at least one entry.", details={"entries": ["Add at least one entry."]})
    if len(entries) > ENTRIES_MAX:
        raise ApplicationError(
            f"Too many entries (at most {ENTRIES_MAX}).", details={"entries": [f"At most {ENTRIES_MAX} entries."]}
        )
    cleaned, problems = [], []
    for number, entry in enumerate(entries, 1):
        entry = entry if isinstance(entry, Mapping) else {}
        day, platform = str(entry.get("date") or "").strip(), str(entry.get("platform") or "").strip().lower()
        title, text = " ".join(str(entry.get("title") or "").split()), str(entry.get("text") or "").strip()
        try:
            date.fromisoformat(day)
        except ValueError:
            problems.append(f"Entry {number}: the date must be YYYY-MM-DD.")
        key = normalize_channel(platform) if platform else None
        if key not in PLATFORMS:
            problems.append(f"Entry {number}: choose a platform ({', '.join(PLATFORMS)}).")
        if not title or len(title) > ENTRY_TITLE_MAX:
            problems.append(f"Entry {number}: a title of 1 to {ENTRY_TITLE_MAX} characters is needed.")
        if not text:
            problems.append(f"Entry {number}: the text must not be blank.")
        cleaned.append({"date": day, "platform": key or platform, "title": title, "text": text})
    if problems:
        raise ApplicationError("Some calendar entries are invalid.", details={"entries": problems})
    return sorted(cleaned, key=lambda e: (e["date"], e["platform"]))


def _structured_after_amend(kind: str, previous: Mapping[str, Any], content: str) -> dict[str, Any]:
    """The kind-specific fields of the amended text. Parsed back only from the exact shapes generation writes
    (calendar table rows, the email's Subject / Preheader lines); everything else is carried over."""
    structured = dict(previous)
    if kind == "content_calendar":
        structured["entries"] = calendar_entries(content)
    elif kind == "ad_copy":  # the shape render_ad writes: headline, primary text, call to action, prompts
        match = re.match(
            r"^##[ \t]+(?P<headline>.+?)[ \t]*\n\n(?P<primary>.+?)\n\n\*\*Call to action:\*\*[ \t]*(?P<cta>.+?)[ \t]*"
            r"\n\n### Image prompts\n\n(?P<prompts>.+)$",
            content.strip(),
            re.S,
        )
        if match:
            prompts = [re.sub(r"^\d+[.)]\s*", "", line).strip() for line in match["prompts"].splitlines()]
            structured.update(
                headline=match["headline"],
                primary_text=match["primary"].strip(),
                call_to_action=match["cta"],
                image_prompts=[p for p in prompts if p],
            )
    elif kind == "email_copy":
        for key, label in (("subject", "Subject"), ("preheader", "Preheader")):
            match = re.search(rf"^\*\*{label}:\*\*[ \t]*(.+?)[ \t]*$", content, re.M)
            if match:
                structured[key] = match.group(1)
    return structured


_CALENDAR_ROW = re.compile(r"^\|\s*(\d{4}-\d{2}-\d{2})\s*\|(.*)\|\s*$")
_LABELS = {platform.label.lower(): key for key, platform in PLATFORMS.items()}


def calendar_entries(markdown: str) -> list[dict[str, str]]:
    """The rows of a content calendar table (`| Date | Platform | Title | Copy |`, as generation renders it):
    one entry per row whose first cell is a date. Rows in any other shape are not entries."""
    entries = []
    for line in markdown.splitlines():
        match = _CALENDAR_ROW.match(line.strip())
        if not match:
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", match.group(2))]
        if len(cells) != 3:
            continue
        platform, title, text = cells
        key = _LABELS.get(platform.lower()) or normalize_channel(platform) or platform.lower()
        entries.append({"date": match.group(1), "platform": key, "title": title, "text": text})
    return entries


# --- transitions ---------------------------------------------------------------------------------------------


def deliverable_submit(*, deliverable: Deliverable, actor, comment: str = "") -> Deliverable:
    """draft → in_review; refused while the current revision has blocking quality issues (a manager could not
    approve it, so the marketer is told first, with the issues)."""
    return _transition(deliverable=deliverable, actor=actor, action="submit", comment=comment)


def deliverable_approve(*, deliverable: Deliverable, actor, comment: str = "") -> Deliverable:
    """in_review → approved; refused while the current revision has blocking quality issues, and to the author
    of the current revision unless the brand allows self-approval."""
    return _transition(deliverable=deliverable, actor=actor, action="approve", comment=comment)


def deliverable_reject(*, deliverable: Deliverable, actor, comment: str) -> Deliverable:
    """in_review → changes_requested, with a comment saying what to change."""
    if not (comment or "").strip():
        current = _load(deliverable, actor)  # a non-member learns nothing, not even that a comment is missing
        deliverable_permission_check(actor=actor, action="reject", deliverable=current)
        raise ApplicationError(
            "Say what should change: a comment is required to reject.",
            details={"comment": ["This field is required to reject."]},
        )
    return _transition(deliverable=deliverable, actor=actor, action="reject", comment=comment)


def _transition(*, deliverable: Deliverable, actor, action: str, comment: str) -> Deliverable:
    source, target = TRANSITIONS[action]
    current = _load(deliverable, actor)
    deliverable_permission_check(actor=actor, action=action, deliverable=current)
    if current.status != source:
        raise _illegal(current.status, action)
    if action in ("submit", "approve"):
        _no_blocking_issues(current)
    with transaction.atomic():
        moved = Deliverable.objects.filter(pk=current.pk, status=source, version=current.version).update(
            status=target, updated_at=timezone.now()
        )
        if not moved:  # someone else moved it between our read and this update
            status = Deliverable.objects.filter(pk=current.pk).values_list("status", flat=True).first()
            raise _illegal(status, action)
        deliverable_transitioned_event(
            deliverable=current,
            actor=actor,
            action=AuditAction(action),
            from_status=source,
            to_status=target,
            comment=comment,
        )
        _notify_transition(current, actor, action, comment)
        webhook_emit(
            brand_id=current.run.brand_id,
            event=TRANSITION_EVENTS[action],
            data=deliverable_event_data(current, status=target, actor=actor.get_username(), comment=comment),
        )
    deliverable.refresh_from_db()
    return deliverable


def _notify_transition(deliverable: Deliverable, actor, action: str, comment: str) -> None:
    """Submit tells the brand's managers; approve and reject tell the people whose work it is."""
    title = deliverable.title or deliverable.kind
    who = actor.get_username()
    if action == "submit":
        users, kind, text = (
            managers_of(deliverable.run.brand_id),
            Notification.Kind.REVIEW_REQUESTED,
            (f"{who} asks you to review “{title}” (version {deliverable.version})"),
        )
    elif action == "reject":
        users, kind, text = (
            writers_of(deliverable),
            Notification.Kind.CHANGES_REQUESTED,
            (f"{who} requested changes to “{title}”: {comment[:200]}"),
        )
    else:
        users, kind, text = writers_of(deliverable), Notification.Kind.APPROVED, f"{who} approved “{title}”"
    notify(users=users, kind=kind, text=text, deliverable=deliverable, exclude=actor)


def _no_blocking_issues(deliverable: Deliverable) -> None:
    blocking = _current_quality(deliverable).get("blocking") or []
    if blocking:
        what = "Approval" if deliverable.status == Status.IN_REVIEW else "Submitting"
        raise Conflict(
            f"{what} refused: the current revision has blocking quality issues. Amend it first.",
            details=list(blocking),
        )


# --- what a user may do now ------------------------------------------------------------------------------------


def deliverable_actions(*, user, deliverable: Deliverable) -> list[str]:
    """Which of "amend", "submit", "approve", "reject" `user` may do to `deliverable` now (for buttons).
    Uses `current_revision` when a selector attached it, else reads the quality report (one query, and only
    when approval is in question)."""
    if (
        not getattr(user, "is_authenticated", False)
        or deliverable.generation_status != Deliverable.Generation.DONE
        or roles.role_in(user, deliverable.run.brand_id) is None
    ):
        return []
    allowed = []
    brand_id = deliverable.run.brand_id
    if roles.may(user, brand_id, roles.AMEND) and deliverable.status in AMENDABLE:
        allowed.append("amend")
    if (
        roles.may(user, brand_id, roles.SUBMIT)
        and deliverable.status == Status.DRAFT
        and not _current_quality(deliverable).get("blocking")
    ):
        allowed.append("submit")
    if roles.may(user, brand_id, roles.APPROVE) and deliverable.status == Status.IN_REVIEW:
        if not _current_quality(deliverable).get("blocking") and not _self_approval_refused(user, deliverable):
            allowed.append("approve")
        allowed.append("reject")
    return allowed


# --- shared helpers ------------------------------------------------------------------------------------------


def deliverable_permission_check(*, actor, action: str, deliverable: Deliverable) -> None:
    """Refuse (PermissionDenied) an actor whose role in the deliverable's brand does not allow `action`, and
    a manager approving their own revision where the brand does not allow it. The services check it after
    loading (non-members get 404 first); the API checks it before validating the body, so a refused role gets
    403 whatever it sent."""
    if actor is None or not roles.may(actor, deliverable.run.brand_id, action):
        raise PermissionDenied(REFUSALS[action])
    if action == "approve" and _self_approval_refused(actor, deliverable):
        raise PermissionDenied(SELF_APPROVAL_REFUSAL)


def _self_approval_refused(user, deliverable: Deliverable) -> bool:
    """The current revision was written by `user` and the brand does not allow self-approval."""
    if deliverable.run.brand.allow_self_approval:
        return False
    revision = getattr(deliverable, "current_revision", None)
    if revision is not None and revision.version == deliverable.version:
        author_id = revision.author_id
    else:
        author_id = (
            Revision.objects.filter(deliverable_id=deliverable.pk, version=deliverable.version)
            .values_list("author_id", flat=True)
            .first()
        )
    return author_id is not None and author_id == user.pk


def _load(deliverable: Deliverable, actor) -> Deliverable:
    """The deliverable as it is now in the database; 404 for non-members; only generated ones can be touched."""
    current = Deliverable.objects.select_related("run__brand").filter(pk=deliverable.pk).first()
    if current is None or roles.role_in(actor, current.run.brand_id) is None:
        raise NotFound("No such deliverable.")
    if current.generation_status != Deliverable.Generation.DONE:
        raise Conflict(
            f"It has not been generated (generation is {current.generation_status}): there is nothing to review yet.",
            details={"generation_status": current.generation_status},
        )
    return current


def _current_quality(deliverable: Deliverable) -> Mapping[str, Any]:
    revision = getattr(deliverable, "current_revision", None)
    if revision is not None and revision.version == deliverable.version:
        return revision.quality or {}
    quality = (
        Revision.objects.filter(deliverable_id=deliverable.pk, version=deliverable.version)
        .values_list("quality", flat=True)
        .first()
    )
    return quality or {}


def _illegal(status: str | None, action: str) -> Conflict:
    allowed_from = list(AMENDABLE) if action == "amend" else [TRANSITIONS[action][0]]
    return Conflict(
        f"illegal transition: it is {status}",
        details={"status": status, "action": action, "allowed_from": [str(s) for s in allowed_from]},
    )


def _stale(current_version: int, version: int) -> Conflict:
    return Conflict(
        f"Stale version: you amended version {version}, but the deliverable is now at version "
        f"{current_version}. Reload it and apply your change to the current text.",
        details={"current_version": current_version, "version": version},
    )


def _amend_refusal(pk, version: int) -> Conflict:
    """Why a conditional amend updated nothing: someone amended, submitted or approved in between."""
    status, current_version = Deliverable.objects.filter(pk=pk).values_list("status", "version").get()
    if current_version != version:
        return _stale(current_version, version)
    if status == Status.IN_REVIEW:
        return Conflict(
            "It is in review: a manager must approve or reject it before it can be amended.", details={"status": status}
        )
    return _illegal(status, "amend")


def deliverable_event_data(deliverable: Deliverable, *, status: str, actor: str | None, comment: str = "") -> dict:
    """What a webhook receives about a deliverable event."""
    return {
        "deliverable_id": str(deliverable.pk),
        "run_id": str(deliverable.run.run_id),
        "brand": deliverable.run.brand.slug,
        "kind": deliverable.kind,
        "title": deliverable.title,
        "status": status,
        "version": deliverable.version,
        "actor": actor,
        "comment": comment,
    }
