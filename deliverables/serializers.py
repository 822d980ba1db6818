"""Serializers of the review API: what a deliverable, a revision and a request body look like. They parse
and present; the services decide."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Deliverable, Revision, Rewrite
from .selectors import with_current_revision
from .services import deliverable_actions
from .services.exports import FORMATS
from .services.rewrite import INSTRUCTIONS_MAX, LANGUAGES, SELECTION_MAX, TONE_MAX, VARIANTS_MAX
from .services.workflow import NOTE_MAX, TITLE_MAX

PG_INT_MAX = 2_147_483_647
CONTENT_MAX = 100_000


class QualityIssueSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class QualityReportSerializer(serializers.Serializer):
    blocking = QualityIssueSerializer(many=True, default=list)
    warnings = QualityIssueSerializer(many=True, default=list)


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text="Username of the person who wrote it; null for a provider.")
    quality = QualityReportSerializer(read_only=True)

    class Meta:
        model = Revision
        fields = [
            "version",
            "title",
            "content_markdown",
            "hashtags",
            "structured",
            "author",
            "provider",
            "model",
            "note",
            "quality",
            "created_at",
        ]
        read_only_fields = fields

    def get_author(self, revision) -> str | None:
        return revision.author.get_username() if revision.author_id and revision.author else None


class DeliverableSerializer(serializers.ModelSerializer):
    """A deliverable with its current revision, that revision's quality report, and what the caller may do."""

    run_id = serializers.UUIDField(source="run.run_id", read_only=True)
    brand = serializers.CharField(source="run.brand.slug", read_only=True)
    metadata = serializers.SerializerMethodField()
    assets = serializers.SerializerMethodField()
    current_revision = serializers.SerializerMethodField()
    quality = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(help_text='Of "amend", "submit", "approve", "reject".')

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "run_id",
            "brand",
            "kind",
            "title",
            "platform",
            "hashtags",
            "status",
            "version",
            "generation_status",
            "error",
            "metadata",
            "assets",
            "current_revision",
            "quality",
            "actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _revision(self, deliverable):
        revision = getattr(deliverable, "current_revision", None)
        return revision if revision is not None and revision.version == deliverable.version else None

    def get_metadata(self, deliverable) -> dict:
        return {key: value for key, value in deliverable.metadata.items() if key != "slot"}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "image_url": {"type": "string", "nullable": True},
                "image_urls": {"type": "array", "items": {"type": "string"}},
            },
        }
    )
    def get_assets(self, deliverable) -> dict:
        images = getattr(deliverable, "image_assets", [])
        return {"image_url": images[0].url if images else None, "image_urls": [a.url for a in images]}

    @extend_schema_field(RevisionSerializer(allow_null=True))
    def get_current_revision(self, deliverable):
        revision = self._revision(deliverable)
        return RevisionSerializer(revision).data if revision is not None else None

    @extend_schema_field(QualityReportSerializer(allow_null=True))
    def get_quality(self, deliverable):
        revision = self._revision(deliverable)
        if revision is None:
            return None
        report = revision.quality or {}
        return {"blocking": list(report.get("blocking") or []), "warnings": list(report.get("warnings") or [])}

    def get_actions(self, deliverable) -> list[str]:
        return deliverable_actions(user=self.context["request"].user, deliverable=deliverable)


class AmendSerializer(serializers.Serializer):
    content_markdown = serializers.CharField(max_length=CONTENT_MAX, trim_whitespace=True)
    title = serializers.CharField(
        max_length=TITLE_MAX, required=False, help_text="Defaults to the current revision's title."
    )
    hashtags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=60,
        required=False,
        help_text="Defaults to the current revision's hashtags.",
    )
    version = serializers.IntegerField(
        min_value=1, max_value=PG_INT_MAX, help_text="The version you amended (the deliverable's current version)."
    )
    note = serializers.CharField(
        max_length=NOTE_MAX, required=False, allow_blank=True, default="", help_text="What changed and why."
    )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="What should change (required).")


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS)
    approved_only = serializers.BooleanField(required=False, default=False)


class ErrorSerializer(serializers.Serializer):
    """How refusals answer (403, 404, 409, and 400 from the services)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    details = serializers.JSONField(required=False, help_text="Blocking issues, the current version, …")


class RewriteRequestSerializer(serializers.Serializer):
    """The body of POST /api/v1/deliverables/<id>/rewrite. Only the shape is checked here; the service checks
    what depends on the deliverable (stale version, a selection not in the text, a tone or language missing)."""

    action = serializers.ChoiceField(choices=Rewrite.Action.choices)
    version = serializers.IntegerField(
        min_value=1, max_value=PG_INT_MAX, help_text="The version you asked to rewrite (409 if stale)."
    )
    tone = serializers.CharField(
        max_length=TONE_MAX, required=False, allow_blank=True, default="", help_text="For `tone` (required there)."
    )
    language = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=f"For `translate` (required there): a code or English name, of {', '.join(LANGUAGES)}.",
    )
    count = serializers.IntegerField(
        min_value=1, max_value=VARIANTS_MAX, required=False, help_text="For `variants` (required there)."
    )
    instructions = serializers.CharField(
        max_length=INSTRUCTIONS_MAX, required=False, allow_blank=True, default="", help_text="What to aim for."
    )
    selection = serializers.CharField(
        max_length=SELECTION_MAX,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="A passage of the current text (exactly as in `content_markdown`): only it is rewritten, in "
        "place. Not for `variants`.",
    )

    def validate(self, data):
        problems = {}
        if data["action"] == "tone" and not data.get("tone", "").strip():
            problems["tone"] = ["This field is required for action 'tone'."]
        if data["action"] == "translate" and not data.get("language", "").strip():
            problems["language"] = ["This field is required for action 'translate'."]
        if data["action"] == "variants" and data.get("count") is None:
            problems["count"] = ["This field is required for action 'variants'."]
        if problems:
            raise serializers.ValidationError(problems)
        return data


class RewriteErrorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="PROVIDER_ERROR, TIMEOUT, RATE_LIMIT, QUEUE_UNAVAILABLE, CONFLICT, …")
    message = serializers.CharField()


class RewriteSerializer(serializers.ModelSerializer):
    """A rewrite and, once done, what it made: the deliverable at its new version, or the variants."""

    deliverable_id = serializers.UUIDField(read_only=True)
    # plain strings in the schema: these choice sets equal the generation status's (an enum-name collision)
    status = serializers.CharField(read_only=True, help_text="pending | running | done | failed")
    action = serializers.CharField(read_only=True, help_text=", ".join(Rewrite.Action.values))
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    error = RewriteErrorSerializer(read_only=True, allow_null=True)
    deliverable = serializers.SerializerMethodField(help_text="The deliverable now (its new version when done).")
    variants = serializers.SerializerMethodField(help_text="For `variants`, once done: the sibling deliverables.")
    url = serializers.SerializerMethodField(help_text="Where to poll it (`?wait=N` long-polls).")

    class Meta:
        model = Rewrite
        fields = [
            "id",
            "url",
            "action",
            "status",
            "options",
            "from_version",
            "result_version",
            "deliverable_id",
            "variant_ids",
            "requested_by",
            "error",
            "deliverable",
            "variants",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, rewrite) -> str:
        return f"/api/v1/rewrites/{rewrite.pk}"

    @extend_schema_field(DeliverableSerializer)
    def get_deliverable(self, rewrite):
        deliverable = Deliverable.objects.select_related("run__brand").get(pk=rewrite.deliverable_id)
        return DeliverableSerializer(with_current_revision([deliverable])[0], context=self.context).data

    @extend_schema_field(DeliverableSerializer(many=True))
    def get_variants(self, rewrite):
        if not rewrite.variant_ids:
            return []
        rows = {
            str(d.pk): d for d in Deliverable.objects.select_related("run__brand").filter(pk__in=rewrite.variant_ids)
        }
        ordered = [rows[pk] for pk in rewrite.variant_ids if pk in rows]
        return DeliverableSerializer(with_current_revision(ordered), many=True, context=self.context).data
