import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Module(models.TextChoices):
    CAMPAIGNS = "campaigns"
    CREATIVES = "creatives"
    STUDIO = "studio"


class Run(models.Model):
    """One generate request: its brief, its deliverable slots, and how generation went."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        SUCCESS = "SUCCESS"
        PARTIAL = "PARTIAL"
        FAILED = "FAILED"

    TERMINAL = (Status.SUCCESS, Status.PARTIAL, Status.FAILED)

    run_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    module = models.CharField(max_length=20, choices=Module.choices)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="runs")
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    trace_id = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    input_snapshot = models.JSONField(default=dict, help_text="The brief and brand kit as they were at request time.")
    provider = models.CharField(max_length=40, default="none")
    model = models.CharField(max_length=120, blank=True)
    tokens_used = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["brand", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.module} run {self.run_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class Deliverable(models.Model):
    """One piece of work in a run. Its text lives in immutable Revisions; `version` is the current one."""

    class Status(models.TextChoices):  # the review workflow
        DRAFT = "draft"
        IN_REVIEW = "in_review"
        CHANGES_REQUESTED = "changes_requested"
        APPROVED = "approved"

    class Generation(models.TextChoices):  # the worker's progress on this slot
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="deliverables")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=240, blank=True)
    platform = models.CharField(max_length=20, null=True, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    version = models.PositiveIntegerField(default=0, help_text="Number of the current revision; 0 before generation.")
    generation_status = models.CharField(max_length=10, choices=Generation.choices, default=Generation.PENDING)
    deliveries = models.PositiveSmallIntegerField(default=0, help_text="How often a worker picked this slot up.")
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "position"]

    def __str__(self) -> str:
        return self.title or self.kind


class Revision(models.Model):
    """Immutable text of a deliverable at one version: written by a provider or by a person."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=240, blank=True)
    content_markdown = models.TextField()
    hashtags = models.JSONField(default=list, blank=True)
    structured = models.JSONField(default=dict, blank=True, help_text="Kind-specific fields (headline, entries…).")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=500, blank=True)
    quality = models.JSONField(default=dict, blank=True, help_text="Quality report computed for this text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deliverable", "version"]
        constraints = [models.UniqueConstraint(fields=["deliverable", "version"], name="one_revision_per_version")]

    def __str__(self) -> str:
        return f"{self.deliverable_id} v{self.version}"


def asset_upload_to(asset: "Asset", filename: str) -> str:
    return f"assets/{asset.brand_id}/{asset.id}{filename[filename.rfind('.') :] if '.' in filename else '.png'}"


class Asset(models.Model):
    """A generated or uploaded file (images). Stored in Django storage, served only to brand members."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="assets")
    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.SET_NULL, null=True, blank=True, related_name="assets"
    )
    file = models.FileField(upload_to=asset_upload_to)
    content_type = models.CharField(max_length=60, default="image/png")
    prompt = models.TextField(blank=True)
    size = models.CharField(max_length=20, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"asset {self.id}"

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse("asset-file", args=[self.id])


class AuditAction(models.TextChoices):
    """Every kind of audit event (written only by deliverables/events.py)."""

    AMEND = "amend"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    EXPORT = "export"
    RETRY_FAILED = "retry_failed"
    REWRITE = "rewrite"  # the improve loop made a new revision (or, for variants, sibling deliverables)
    VARIANT = "variant"  # a deliverable made as an A/B variant of another
    REVIEW_LINK_SENT = "review_link_sent"
    REVIEW_LINK_REVOKED = "review_link_revoked"
    CLIENT_APPROVED = "client_approved"
    CLIENT_CHANGES_REQUESTED = "client_changes_requested"


class AuditEvent(models.Model):
    """Who did what to which deliverable, and when. Written by every transition and export (events.py)."""

    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deliverable__isnull=False) | Q(run__isnull=False), name="audit_event_has_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"


class ProviderCall(models.Model):
    """One LLM or image call: which provider, how long, how many tokens, what it cost, how it ended."""

    class Outcome(models.TextChoices):
        STARTED = "started"  # written before the call; left so only if the worker died during it
        OK = "ok"
        ERROR = "error"
        SKIPPED = "skipped"  # cooling down, forced to fail by a drill, or unable to (no image model)
        INTERRUPTED = "interrupted"  # the call was cut off: a time limit, a shutdown, a killed worker

    run = models.ForeignKey(Run, on_delete=models.CASCADE, null=True, blank=True, related_name="provider_calls")
    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.SET_NULL, null=True, blank=True, related_name="provider_calls"
    )
    brand = models.ForeignKey("brands.Brand", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, blank=True)
    use_case = models.CharField(max_length=40)
    latency_ms = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error_type = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    # The chain's id for the attempt: its "started" row is updated, not duplicated, when the call ends.
    call_id = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], name="providercall_started_idx", condition=models.Q(outcome="started"))
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.outcome} {self.latency_ms}ms"


class Rewrite(models.Model):
    """One request to improve a deliverable with the model (regenerate, shorten, expand, change tone, translate,
    or make variants), on the whole text or a selected passage. A worker does it; the result is a new revision
    of the deliverable (`result_version`) or, for variants, new sibling deliverables in the same run."""

    class Action(models.TextChoices):
        REGENERATE = "regenerate"
        SHORTEN = "shorten"
        EXPAND = "expand"
        TONE = "tone"
        TRANSLATE = "translate"
        VARIANTS = "variants"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    TERMINAL = (Status.DONE, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="rewrites")
    action = models.CharField(max_length=20, choices=Action.choices)
    options = models.JSONField(default=dict, blank=True, help_text="tone, language, count, instructions, selection")
    from_version = models.PositiveIntegerField(help_text="The version the request was made on.")
    result_version = models.PositiveIntegerField(null=True, blank=True)
    variant_ids = models.JSONField(default=list, blank=True, help_text="Ids of the sibling deliverables made.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trace_id = models.CharField(max_length=64, blank=True)
    deliveries = models.PositiveSmallIntegerField(default=0, help_text="How often a worker picked it up.")
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} of {self.deliverable_id} v{self.from_version} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class RunReviewLink(models.Model):
    """A link that sends a whole run to a client: one token, one expiry, one revoke; the client decides each
    deliverable (or all at once) through the run link's items, one ReviewLink per deliverable, each bound to the
    revision current when the link was sent. Only the token's SHA-256 is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="review_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expiry_noticed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run review link {self.id} for {self.run_id}"


class ReviewLink(models.Model):
    """A link a manager sends to a client who has no account: it shows one revision of a deliverable and takes
    one decision (approve or request changes, with a name and a comment). Only the token's SHA-256 is stored;
    the link dies when it expires, is revoked, is used, or the deliverable moves past the revision it shows."""

    class Decision(models.TextChoices):
        APPROVED = "approved"
        CHANGES_REQUESTED = "changes_requested"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="review_links")
    token_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Null for an item of a run link (its token)."
    )
    run_link = models.ForeignKey(
        RunReviewLink, on_delete=models.CASCADE, null=True, blank=True, related_name="items", editable=False
    )
    version = models.PositiveIntegerField(help_text="The revision the client reads and decides on.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True)
    reviewer_name = models.CharField(max_length=120, blank=True)
    comment = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expiry_noticed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"review link {self.id} for {self.deliverable_id} v{self.version}"


class Notification(models.Model):
    """Something that waits for one user (the inbox); emailed once, unless the user turned email off."""

    class Kind(models.TextChoices):
        REVIEW_REQUESTED = "review_requested"
        CHANGES_REQUESTED = "changes_requested"
        APPROVED = "approved"
        MENTION = "mention"
        CLIENT_DECISION = "client_decision"
        REVIEW_LINK_REMINDER = "review_link_reminder"
        BUDGET = "budget"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.text[:40]}"


class NotificationSettings(models.Model):
    """A user's choice about notification email (the inbox always shows them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"notification settings of {self.user_id}"


class Comment(models.Model):
    """A team member's remark on a deliverable, made while it was at `version` (shown beside that revision).
    The body is Markdown, rendered through the sanitiser like every other user text."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    version = models.PositiveIntegerField()
    body = models.TextField()
    mentions = models.JSONField(default=list, blank=True, help_text="Usernames notified by @mention.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deliverable", "created_at", "pk"]

    def __str__(self) -> str:
        return f"comment on {self.deliverable_id} v{self.version}"


class WebhookEvent(models.TextChoices):
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    DELIVERABLE_SUBMITTED = "deliverable.submitted"
    DELIVERABLE_APPROVED = "deliverable.approved"
    DELIVERABLE_CHANGES_REQUESTED = "deliverable.changes_requested"
    COMMENT_CREATED = "comment.created"


class Webhook(models.Model):
    """A brand's subscriber: events are POSTed to `url`, signed with `secret` (HMAC-SHA256 of the body). The
    secret must be kept to sign; it is shown once, at creation, and never again by the API."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "-created_at"]

    def __str__(self) -> str:
        return f"webhook {self.pk} → {self.url}"


class WebhookDelivery(models.Model):
    """One attempt to deliver one event: what was sent, what came back, how long it took."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(help_text="Same for every attempt of one event.")
    event = models.CharField(max_length=40)
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} attempt {self.attempt} → {self.status_code or self.error}"
