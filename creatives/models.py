"""The creative studio's conversations: a thread per marketer and brand, and its messages.

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


class StudioMessage(models.Model):
    """A marketer's message, or the assistant's reply to one.

    A reply may take several model rounds (text, tool calls, their results, more text): `steps` keeps each
    round so the history sent to the model is exact, `content` is the text the marketer sees, and `actions`
    what the tools did (assets saved, images made, theme switched) for the page to show."""

    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        PENDING = "pending"  # queued for a worker
        STREAMING = "streaming"  # a worker is writing it
        COMPLETE = "complete"
        FAILED = "failed"  # the partial text was discarded; `error` says why, and it can be retried

    IN_FLIGHT = (Status.PENDING, Status.STREAMING)
    TERMINAL = (Status.COMPLETE, Status.FAILED)

    thread = models.ForeignKey(StudioThread, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETE)
    content = models.TextField(blank=True)
    steps = models.JSONField(
        default=list,
        blank=True,
        help_text='Model rounds: [{"text", "tool_calls": [{"id", "name", "arguments"}], '
        '"results": [{"tool_call_id", "name", "content"}]}].',
    )
    actions = models.JSONField(default=list, blank=True, help_text="What the tools did, for the page.")
    error = models.JSONField(null=True, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=120, blank=True)
    tokens_used = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0, help_text="Workers that started this reply (any try).")
    deliveries = models.PositiveSmallIntegerField(
        default=0, help_text="Workers that started it since the last retry by the marketer."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["thread", "id"]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL
