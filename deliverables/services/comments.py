"""Comments on deliverables: any member of the brand may comment; `@username` notifies that member (members of
the brand only, so a mention cannot be used to probe who has an account)."""

import re

from django.contrib.auth import get_user_model
from django.db import transaction

from aicmo.core.errors import ApplicationError, NotFound
from brands import roles

from ..models import Comment, Deliverable, Notification
from .notifications import notify
from .webhooks import webhook_emit

BODY_MAX = 5000
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def comment_create(*, deliverable: Deliverable, actor, body: str) -> Comment:
    current = Deliverable.objects.select_related("run").filter(pk=deliverable.pk).first()
    if current is None or roles.role_in(actor, current.run.brand_id) is None:
        raise NotFound("No such deliverable.")
    body = (body or "").strip()
    if not body:
        raise ApplicationError("The comment is empty.", details={"body": ["This field may not be blank."]})
    if len(body) > BODY_MAX:
        raise ApplicationError(
            "The comment is too long.", details={"body": [f"Ensure this field has no more than {BODY_MAX} characters."]}
        )
    names = {name.rstrip(".") for name in MENTION.findall(body)}
    mentioned = list(
        get_user_model()
        .objects.filter(username__in=names, memberships__brand_id=current.run.brand_id, is_active=True)
        .distinct()
    )
    with transaction.atomic():
        comment = Comment.objects.create(
            deliverable=current,
            author=actor,
            version=current.version,
            body=body,
            mentions=sorted(u.username for u in mentioned),
        )
        notify(
            users=mentioned,
            kind=Notification.Kind.MENTION,
            deliverable=current,
            text=f"{actor.get_username()} mentioned you on “{current.title}”: {body[:200]}",
            exclude=actor,
        )
        webhook_emit(
            brand_id=current.run.brand_id,
            event="comment.created",
            data={
                "comment_id": comment.pk,
                "deliverable_id": str(current.pk),
                "author": actor.get_username(),
                "version": comment.version,
                "body": body,
                "mentions": comment.mentions,
            },
        )
    return comment
