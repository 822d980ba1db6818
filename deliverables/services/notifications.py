"""The one writer of notifications: a row per user (the inbox), and one email per event to each user who has
not turned email off. Email goes through Django's mail framework (console backend in dev, SMTP by settings),
after the transaction that caused it commits, so a rolled-back change sends nothing."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from brands.models import Role

from ..models import Deliverable, Notification, NotificationSettings

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "aicmo.notifications.unsubscribe"


def notify(*, users: Iterable, kind: str, text: str, deliverable: Deliverable | None = None, exclude=None) -> int:
    """One Notification per distinct user (never to `exclude`, the person who acted), and its email."""
    recipients = {u.pk: u for u in users if u is not None and getattr(u, "pk", None)}
    if exclude is not None and getattr(exclude, "pk", None):
        recipients.pop(exclude.pk, None)
    if not recipients:
        return 0
    Notification.objects.bulk_create(
        [Notification(user_id=pk, kind=kind, text=text[:500], deliverable=deliverable) for pk in recipients]
    )
    muted = set(
        NotificationSettings.objects.filter(user_id__in=recipients, email=False).values_list("user_id", flat=True)
    )
    emails = [(u.email, u.pk) for pk, u in recipients.items() if pk not in muted and u.email]
    if emails:
        path = reverse("deliverable-detail", args=[deliverable.pk]) if deliverable else reverse("inbox")
        transaction.on_commit(lambda: _send(emails, text, path))
    return len(recipients)


def _send(emails: list[tuple[str, int]], text: str, path: str) -> None:
    base = settings.AICMO_SITE_URL.rstrip("/")
    for address, user_id in emails:
        token = signing.dumps(user_id, salt=UNSUBSCRIBE_SALT)
        body = (
            f"{text}\n\nOpen it: {base}{path}\n\n"
            f"Stop these emails: {base}{reverse('inbox-unsubscribe', args=[token])}\n"
        )
        try:  # a mail server that is down must not undo or fail the change that was already committed
            send_mail(f"[AICMO] {text[:120]}", body, None, [address])
        except Exception:
            logger.exception("notification email failed", extra={"user_id": user_id})


def managers_of(brand_id: int):
    return get_user_model().objects.filter(
        memberships__brand_id=brand_id, memberships__role=Role.MANAGER, is_active=True
    )


def team_of(brand_id: int):
    return get_user_model().objects.filter(memberships__brand_id=brand_id, is_active=True).distinct()


def writers_of(deliverable: Deliverable):
    """The people whose work it is: who requested the run and who wrote any revision of it."""
    User = get_user_model()
    author_ids = set(deliverable.revisions.exclude(author=None).values_list("author_id", flat=True))
    if deliverable.run.requested_by_id:
        author_ids.add(deliverable.run.requested_by_id)
    return User.objects.filter(pk__in=author_ids, is_active=True)


def email_unsubscribe(*, token: str) -> bool:
    """Turn notification email off for the user a signed unsubscribe token names; False for a bad token."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return False
    if not get_user_model().objects.filter(pk=user_id).exists():
        return False
    NotificationSettings.objects.update_or_create(user_id=user_id, defaults={"email": False})
    return True


def email_preference_set(*, user, email: bool) -> None:
    NotificationSettings.objects.update_or_create(user=user, defaults={"email": email})


def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    from django.utils import timezone

    rows = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
