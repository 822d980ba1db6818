"""The studio's ChatKit persistence, in plain (sync) ORM code: threads as `ThreadMetadata`, items as the
protocol's JSON. The web side's `Store` (store.py) wraps these for the async ChatKit server; the worker calls
them directly when it saves the items of a reply."""

import uuid
from datetime import datetime
from typing import Any

from chatkit.store import NotFoundError
from chatkit.types import Attachment, Page, Thread, ThreadItem, ThreadMetadata
from django.db import transaction
from django.utils import timezone
from pydantic import TypeAdapter

from brands.selectors import brands_for

from ..models import StudioAttachment, StudioItem, StudioThread
from .selectors import threads_for

ITEM = TypeAdapter(ThreadItem)
ATTACHMENT = TypeAdapter(Attachment)
MAX_PAGE = 100
DEFAULT_TITLE = "New conversation"


def parse_thread_id(thread_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(thread_id))
    except (ValueError, TypeError, AttributeError):
        return None


def owned_thread(user, thread_id: str) -> StudioThread:
    """The user's thread, or NotFoundError (someone else's thread is "not found", as a missing one)."""
    pk = parse_thread_id(thread_id)
    thread = threads_for(user).filter(pk=pk).first() if pk else None
    if thread is None:
        raise NotFoundError(f"Thread {thread_id} not found")
    return thread


def thread_metadata(thread: StudioThread) -> ThreadMetadata:
    return ThreadMetadata(
        id=str(thread.pk),
        title=thread.title or None,
        created_at=thread.created_at,
        metadata={
            "brand": thread.brand.slug,
            "latest_asset_id": str(thread.latest_deliverable_id) if thread.latest_deliverable_id else None,
            "pending_images": list(thread.pending_images),
            "answering": bool(thread.reply_key),
        },
    )


def thread_response(thread: StudioThread) -> Thread:
    return Thread(**thread_metadata(thread).model_dump(), items=Page())


def dump_item(item: Any) -> dict[str, Any]:
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def item_save(thread: StudioThread | uuid.UUID | str, item: Any) -> None:
    """Upsert by the item's id: the worker saves an item before it announces it, and the ChatKit server saves
    it again as the event passes through; both writes are the same row."""
    thread_pk = thread.pk if isinstance(thread, StudioThread) else thread
    created = item.created_at
    if timezone.is_naive(created):  # the library stamps items with a naive datetime.now()
        created = timezone.make_aware(created)
    StudioItem.objects.update_or_create(
        thread_id=thread_pk,
        item_id=item.id,
        defaults={"type": item.type, "data": dump_item(item), "created_at": created},
    )
    StudioThread.objects.filter(pk=thread_pk).update(updated_at=timezone.now())


def item_delete(thread_pk, item_id: str) -> None:
    StudioItem.objects.filter(thread_id=thread_pk, item_id=item_id).delete()


def item_load(thread: StudioThread, item_id: str):
    row = StudioItem.objects.filter(thread=thread, item_id=item_id).first()
    if row is None:
        raise NotFoundError(f"Item {item_id} not found")
    return ITEM.validate_python(row.data)


def items_page(thread: StudioThread, *, after: str | None, limit: int, order: str) -> Page:
    """A page of items in `order` ("asc" oldest first, "desc" newest first), starting after the item `after`."""
    limit = max(1, min(int(limit or 20), MAX_PAGE))
    rows = StudioItem.objects.filter(thread=thread)
    descending = order == "desc"
    if after:
        anchor = StudioItem.objects.filter(thread=thread, item_id=after).values_list("seq", flat=True).first()
        if anchor is None:
            raise NotFoundError(f"Item {after} not found")
        rows = rows.filter(seq__lt=anchor) if descending else rows.filter(seq__gt=anchor)
    rows = list(rows.order_by("-seq" if descending else "seq")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        data=[ITEM.validate_python(row.data) for row in rows],
        has_more=has_more,
        after=rows[-1].item_id if rows and has_more else None,
    )


def recent_items(thread_pk, limit: int) -> list:
    """The last `limit` items, oldest first (the assistant's history window)."""
    rows = list(StudioItem.objects.filter(thread_id=thread_pk).order_by("-seq")[:limit])[::-1]
    return [ITEM.validate_python(row.data) for row in rows]


def threads_page(user, *, brand, after: str | None, limit: int, order: str) -> Page:
    limit = max(1, min(int(limit or 20), MAX_PAGE))
    threads = threads_for(user)
    if brand is not None:
        threads = threads.filter(brand=brand)
    descending = order != "asc"
    if after:
        anchor = threads.filter(pk=parse_thread_id(after)).first() if parse_thread_id(after) else None
        if anchor is None:
            raise NotFoundError(f"Thread {after} not found")
        threads = (
            threads.filter(created_at__lt=anchor.created_at)
            if descending
            else threads.filter(created_at__gt=anchor.created_at)
        )
    rows = list(threads.order_by("-created_at" if descending else "created_at")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        data=[thread_metadata(t) for t in rows],
        has_more=has_more,
        after=str(rows[-1].pk) if rows and has_more else None,
    )


def thread_save(user, brand, metadata: ThreadMetadata) -> None:
    """Create the thread (threads.create) or save what a client may change: its title. The rest of the
    metadata (latest asset, pending images) is written by the tools, never from a client's copy."""
    pk = parse_thread_id(metadata.id)
    if pk is None:
        raise NotFoundError(f"Thread {metadata.id} not found")
    title = (metadata.title or "").strip()[:120]
    with transaction.atomic():
        existing = threads_for(user).filter(pk=pk).first()
        if existing is None:
            if StudioThread.objects.filter(pk=pk).exists() or brand is None:
                raise NotFoundError(f"Thread {metadata.id} not found")
            StudioThread.objects.create(pk=pk, user=user, brand=brand, title=title or DEFAULT_TITLE)
        elif title and title != existing.title:
            StudioThread.objects.filter(pk=pk).update(title=title)


def thread_delete(user, thread_id: str) -> None:
    owned_thread(user, thread_id).delete()


def attachment_save(user, attachment: Any) -> None:
    """Upsert the protocol's record of the user's attachment (with its thread, once a message names it)."""
    if StudioAttachment.objects.filter(id=attachment.id).exclude(user=user).exists():
        raise NotFoundError(f"Attachment {attachment.id} not found")
    thread_pk = parse_thread_id(getattr(attachment, "thread_id", None) or "")
    if thread_pk is not None and not threads_for(user).filter(pk=thread_pk).exists():
        thread_pk = None
    StudioAttachment.objects.update_or_create(
        id=attachment.id, defaults={"user": user, "thread_id": thread_pk, "data": dump_item(attachment)}
    )


def attachment_load(user, attachment_id: str):
    """The user's attachment, of a brand they belong to; anyone else's is "not found"."""
    row = StudioAttachment.objects.filter(id=attachment_id, user=user, brand__in=brands_for(user)).first()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} not found")
    return ATTACHMENT.validate_python(row.data)


def attachment_delete(user, attachment_id: str) -> None:
    StudioAttachment.objects.filter(id=attachment_id, user=user).delete()


def created_now() -> datetime:
    return timezone.now()
