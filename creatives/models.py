"""The creative studio's conversations (ChatKit threads): a thread per marketer and brand, and its items.

Saved ad concepts are not stored here: they are `ad_copy` Deliverables of the thread's studio Run, so they go
through the same review workflow as every other deliverable."""

import uuid

from django.conf import settings
from django.db import models

BRIEF_FIELDS = ("product", "style", "tone", "pitch")


class StudioThread(models.Model):
    """One conversation with the ad-concept assistant, about one brand."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_threads")
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="studio_threads")
    title = models.CharField(max_length=120, blank=True)
    brief = models.JSONField(
        default=dict,
        blank=True,
        help_text="The confirmed brief (product, style, tone, pitch): a running summary sent "
        "to the model instead of the whole conversation.",
    )
    run = models.OneToOneField(
        "deliverables.Run",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="studio_thread",
        help_text="Created when the first concept is saved.",
    )
    latest_deliverable = models.ForeignKey(
        "deliverables.Deliverable",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The concept that “change the headline” revises.",
    )
    pending_images = models.JSONField(
        default=list,
        blank=True,
        help_text="Ids of images made before any concept was saved: the next saved concept takes them "
        "(the seed's pending_images).",
    )
    reply_key = models.CharField(
        max_length=64, blank=True, help_text="The reply being written (its Redis stream), empty when none."
    )
    reply_started_at = models.DateTimeField(null=True, blank=True)
    reply_attempt = models.PositiveSmallIntegerField(
        default=0,
        help_text="How many times the reply's task was delivered (a redelivery resumes the reply; too many end it).",
    )
    reply_state = models.JSONField(
        default=dict,
        blank=True,
        help_text="A reply paused on its image task (retried by Celery): the model round's tool calls, the results "
        "so far, and the rounds used. Empty otherwise.",
    )
    trace_ids = models.JSONField(
        default=list, blank=True, help_text="Trace ids of its replies: their provider calls join the studio run."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["user", "brand", "-updated_at"])]

    def __str__(self) -> str:
        return self.title or f"Studio thread {self.id}"

    def brief_summary(self) -> str:
        """The confirmed brief in one line per field, or "" before anything was confirmed."""
        return "\n".join(f"- {name}: {self.brief[name]}" for name in BRIEF_FIELDS if self.brief.get(name))


class StudioItem(models.Model):
    """One ChatKit thread item (a marketer's message, an assistant message, a widget, a client tool call, hidden
    context), stored as the protocol's own JSON so `items.list` answers exactly what was streamed. `seq` orders
    a thread's items; `item_id` is the protocol's id."""

    seq = models.BigAutoField(primary_key=True)
    thread = models.ForeignKey(StudioThread, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=64)
    type = models.CharField(max_length=40)
    data = models.JSONField(help_text="The ThreadItem as ChatKit serialises it.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["thread", "seq"]
        constraints = [models.UniqueConstraint(fields=["thread", "item_id"], name="studio_item_unique_id")]

    def __str__(self) -> str:
        return f"{self.type} {self.item_id}"


def attachment_upload_to(attachment: "StudioAttachment", filename: str) -> str:
    extension = filename[filename.rfind(".") :] if "." in filename else ""
    return f"studio/attachments/{attachment.brand_id}/{attachment.id}{extension}"


class StudioAttachment(models.Model):
    """A file a marketer attached (ChatKit's attachment record, as the protocol's JSON in `data`); the bytes live
    in Django's default storage, as the assets' do. It belongs to its user and brand: anyone else is told it
    does not exist."""

    id = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_attachments")
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, null=True, blank=True, related_name="studio_attachments"
    )
    thread = models.ForeignKey(
        StudioThread, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    name = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=60, blank=True)
    size = models.PositiveIntegerField(default=0, help_text="Bytes: as declared, then as uploaded.")
    file = models.FileField(upload_to=attachment_upload_to, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True, help_text="Empty until its bytes arrived.")
    data = models.JSONField(help_text="The Attachment as ChatKit serialises it.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"attachment {self.id}"
