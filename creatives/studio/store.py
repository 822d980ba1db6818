"""The ChatKit `Store` over the Django database (web side): every method is the sync ORM function of items.py
run on the studio's database threads (db.py), so the async server never blocks its event loop on a query and
an open stream holds no connection."""

from dataclasses import dataclass, field
from typing import Any

from chatkit.store import AttachmentStore, Store
from chatkit.types import Attachment, AttachmentCreateParams, Page, ThreadItem, ThreadMetadata

from . import attachments, items
from .db import run_db


@dataclass
class StudioContext:
    """Who is asking, for which brand (new threads belong to it; lists are narrowed to it when the client
    named one), under which trace id."""

    user: Any
    brand: Any = None
    brand_named: bool = False
    trace_id: str = ""
    base_url: str = ""  # scheme and host of the request: attachments' upload and preview URLs are absolute
    extra: dict[str, Any] = field(default_factory=dict)
    saved_by_worker: set[str] = field(default_factory=set)  # ids of relayed items the worker has saved
    burst_continues: bool = False  # the event being relayed has more of its burst right behind it (server.py)


class DjangoStore(Store[StudioContext]):
    def generate_thread_id(self, context: StudioContext) -> str:
        import uuid

        return str(uuid.uuid4())  # a StudioThread's primary key: /studio/<id>/ links to it

    async def load_thread(self, thread_id: str, context: StudioContext) -> ThreadMetadata:
        def load():
            return items.thread_metadata(items.owned_thread(context.user, thread_id))

        return await run_db(load)

    async def save_thread(self, thread: ThreadMetadata, context: StudioContext) -> None:
        await run_db(items.thread_save, context.user, context.brand, thread)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: StudioContext
    ) -> Page[ThreadItem]:
        def load():
            thread = items.owned_thread(context.user, thread_id)
            return items.items_page(thread, after=after, limit=limit, order=order)

        return await run_db(load)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: StudioContext
    ) -> Page[ThreadMetadata]:
        brand = context.brand if context.brand_named else None
        return await run_db(items.threads_page, context.user, brand=brand, after=after, limit=limit, order=order)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: StudioContext) -> None:
        if item.id in context.saved_by_worker:
            return  # a finished item relayed from the worker, which saved it before announcing it
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: StudioContext) -> None:
        def save():
            items.item_save(items.owned_thread(context.user, thread_id), item)

        await run_db(save)

    async def load_item(self, thread_id: str, item_id: str, context: StudioContext) -> ThreadItem:
        def load():
            return items.item_load(items.owned_thread(context.user, thread_id), item_id)

        return await run_db(load)

    async def delete_thread(self, thread_id: str, context: StudioContext) -> None:
        await run_db(items.thread_delete, context.user, thread_id)

    async def delete_thread_item(self, thread_id: str, item_id: str, context: StudioContext) -> None:
        def delete():
            items.item_delete(items.owned_thread(context.user, thread_id).pk, item_id)

        await run_db(delete)

    async def save_attachment(self, attachment: Attachment, context: StudioContext) -> None:
        await run_db(items.attachment_save, context.user, attachment)

    async def load_attachment(self, attachment_id: str, context: StudioContext) -> Attachment:
        return await run_db(items.attachment_load, context.user, attachment_id)

    async def delete_attachment(self, attachment_id: str, context: StudioContext) -> None:
        await run_db(items.attachment_delete, context.user, attachment_id)


class StudioAttachments(AttachmentStore[StudioContext]):
    """ChatKit's two-phase upload (attachments.py): `attachments.create` answers where to send the bytes."""

    async def create_attachment(self, input: AttachmentCreateParams, context: StudioContext) -> Attachment:
        return await run_db(
            attachments.attachment_create,
            user=context.user,
            brand=context.brand,
            attachment_id=self.generate_attachment_id(input.mime_type, context),
            name=input.name,
            size=input.size,
            mime_type=input.mime_type,
            base_url=context.base_url,
        )

    async def delete_attachment(self, attachment_id: str, context: StudioContext) -> None:
        await run_db(attachments.attachment_discard, context.user, attachment_id)
