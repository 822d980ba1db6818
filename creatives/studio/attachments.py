"""Images a marketer attaches to a studio message: ChatKit's two-phase upload over the Django database and
Django's default storage (the assets' storage).

1. `attachments.create` (the ChatKit request, JSON: name, size, mime_type) is checked here (PNG, JPEG or WebP,
   at most AICMO_STUDIO_ATTACHMENT_MAX_BYTES) and answers an `ImageAttachment` whose `upload_descriptor` says
   where to send the bytes: `POST /chatkit/attachments/<id>/upload` (multipart `file`, or the raw body).
2. The upload is checked again on the bytes themselves (their signature must be the declared type, their
   size within the limit), stored, and the attachment loses its upload descriptor: it is ready.
3. A message names it in `input.attachments`; the library stores it with the message's thread.
An attachment belongs to its user and brand: for anyone else it does not exist (404). Its bytes are served by
`GET /chatkit/attachments/<id>/file` (its `preview_url`) to its owner only."""

import logging
import re

from chatkit.store import NotFoundError
from chatkit.types import AttachmentUploadDescriptor, ImageAttachment
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aicmo.core.errors import ApplicationError, Conflict
from brands.selectors import brands_for

from ..models import StudioAttachment
from .items import dump_item

logger = logging.getLogger(__name__)

TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
PER_MESSAGE = 4
NAME_MAX = 200


class TooLarge(ApplicationError):
    http_status = 413
    code = "too_large"


class WrongType(ApplicationError):
    http_status = 415
    code = "unsupported_media_type"


def _limit_text() -> str:
    return f"{settings.AICMO_STUDIO_ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB"


def attachment_check(*, name: str, size: int, mime_type: str) -> None:
    """What an attachment must be, before anything is stored."""
    if mime_type not in TYPES:
        raise WrongType(f"Only PNG, JPEG or WebP images can be attached (this file is {mime_type or 'untyped'}).")
    if size <= 0:
        raise ApplicationError("The file is empty.")
    if size > settings.AICMO_STUDIO_ATTACHMENT_MAX_BYTES:
        raise TooLarge(f"The image is too large ({size / (1024 * 1024):.1f} MB): at most {_limit_text()}.")
    if not clean_name(name):
        raise ApplicationError("The file needs a name.")


def clean_name(name: str) -> str:
    """A file name as shown (and told to the model): no path, no control characters, at most NAME_MAX."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:NAME_MAX]


def sniffed_type(head: bytes) -> str | None:
    """The image type the bytes themselves say (their signature), whatever the client declared."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def attachments_for(user):
    if not getattr(user, "is_authenticated", False):
        return StudioAttachment.objects.none()
    return StudioAttachment.objects.filter(user=user, brand__in=brands_for(user))


def owned_attachment(user, attachment_id: str) -> StudioAttachment:
    row = attachments_for(user).filter(pk=str(attachment_id)[:64]).first()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} not found")
    return row


def _attachment(row: StudioAttachment, base_url: str) -> ImageAttachment:
    upload = None
    if row.uploaded_at is None:
        upload = AttachmentUploadDescriptor(
            url=base_url + reverse("chatkit-attachment-upload", args=[row.pk]), method="POST"
        )
    return ImageAttachment(
        id=row.pk,
        name=row.name,
        mime_type=row.mime_type,
        preview_url=base_url + reverse("chatkit-attachment-file", args=[row.pk]),
        upload_descriptor=upload,
        thread_id=str(row.thread_id) if row.thread_id else None,
    )


def attachment_create(*, user, brand, attachment_id: str, name: str, size: int, mime_type: str, base_url: str):
    """The attachment record of `attachments.create`, waiting for its bytes."""
    attachment_check(name=name, size=size, mime_type=mime_type)
    if brand is None or not brands_for(user).filter(pk=brand.pk).exists():
        raise ApplicationError("You are not a member of any brand: an attachment belongs to one.")
    row = StudioAttachment(
        id=attachment_id, user=user, brand=brand, name=clean_name(name), mime_type=mime_type, size=size, data={}
    )
    attachment = _attachment(row, base_url)
    row.data = dump_item(attachment)
    row.save(force_insert=True)
    return attachment


def attachment_upload(*, user, attachment_id: str, content, base_url: str) -> ImageAttachment:
    """Store the bytes of a waiting attachment (`content`: a file-like object). Checked on the bytes: their
    size and their signature."""
    row = owned_attachment(user, attachment_id)
    if row.uploaded_at is not None:
        raise Conflict("This attachment was already uploaded.")
    limit = settings.AICMO_STUDIO_ATTACHMENT_MAX_BYTES
    data = content.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"The image is too large: at most {_limit_text()}.")
    if not data:
        raise ApplicationError("The upload is empty.")
    found = sniffed_type(data[:16])
    if found is None:
        raise WrongType("This file is not a PNG, JPEG or WebP image.")
    if found != row.mime_type:
        raise WrongType(f"The file is a {TYPES[found].upper()} image, not the {row.mime_type} declared.")
    with transaction.atomic():
        locked = StudioAttachment.objects.select_for_update().get(pk=row.pk)
        if locked.uploaded_at is not None:
            raise Conflict("This attachment was already uploaded.")
        locked.file.save(f"{locked.pk}.{TYPES[found]}", ContentFile(data), save=False)
        locked.size = len(data)
        locked.uploaded_at = timezone.now()
        attachment = _attachment(locked, base_url)
        locked.data = dump_item(attachment)
        locked.save()
    return attachment


def attachment_discard(user, attachment_id: str) -> None:
    """`attachments.delete`: the bytes go (the record is deleted by the Store right after)."""
    row = owned_attachment(user, attachment_id)
    if row.file:
        row.file.delete(save=False)


def attachments_usable(user, attachment_ids: list[str], *, brand) -> None:
    """The attachments a message names: the sender's, of the conversation's brand, uploaded."""
    if len(attachment_ids) > PER_MESSAGE:
        raise ApplicationError(f"At most {PER_MESSAGE} images per message.")
    for attachment_id in attachment_ids:
        row = owned_attachment(user, attachment_id)
        if brand is not None and row.brand_id != brand.pk:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        if row.uploaded_at is None:
            raise ApplicationError(f"The image “{row.name}” has not finished uploading.")


def thread_images(thread) -> list[dict]:
    """What the assistant is told of the images attached in a conversation, newest first."""
    rows = StudioAttachment.objects.filter(thread=thread, uploaded_at__isnull=False).order_by("-created_at")
    return [
        {"id": row.pk, "name": row.name, "mime_type": row.mime_type, "size": row.size, "path": row.file.name}
        for row in rows[: PER_MESSAGE * 3]
    ]
