"""The deliverables envelope (contract §4) as OpenAPI components, so /api/schema/ declares what the generate and
run endpoints really answer. Documentation only: envelopes are built by `envelope.build_envelope` and checked
by `envelope.validate_envelope`; these serializers never parse or produce data."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from .envelope import DELIVERABLE_STATUSES, ERROR_TYPES, STATUSES


class EnvelopeProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)


class EnvelopeMetaSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    provider = serializers.CharField(help_text='The provider that made most deliverables; "none" before any call.')
    model = serializers.CharField(allow_blank=True)
    cost_usd = serializers.FloatField(min_value=0, allow_null=True, help_text="null when a model has no known price.")
    tokens_used = serializers.IntegerField(min_value=0)
    warnings = serializers.ListField(child=serializers.CharField())
    trace_id = serializers.CharField()


class EnvelopeAssetsSerializer(serializers.Serializer):
    image_url = serializers.CharField(allow_null=True, help_text="Served only to members of the brand.")
    image_base64 = serializers.CharField(allow_null=True)
    file_url = serializers.CharField(allow_null=True)
    slides = serializers.JSONField(allow_null=True)


class EnvelopeDeliverableSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    content_markdown = serializers.CharField()
    platform = serializers.CharField(allow_null=True)
    hashtags = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=DELIVERABLE_STATUSES)
    version = serializers.IntegerField(min_value=1)
    assets = EnvelopeAssetsSerializer()
    metadata = serializers.DictField(help_text="provider, model, tokens_used, cost_usd and the kind's own fields.")


class EnvelopeErrorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    message = serializers.CharField()
    trace_id = serializers.CharField()
    details = serializers.DictField(required=False, help_text="Per field, for a VALIDATION_ERROR.")


class EnvelopeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES)
    module = serializers.CharField()
    run_id = serializers.UUIDField()
    progress = EnvelopeProgressSerializer()
    meta = EnvelopeMetaSerializer()
    deliverables = EnvelopeDeliverableSerializer(many=True)
    raw = serializers.DictField()
    error = EnvelopeErrorSerializer(allow_null=True, help_text="Set only when the status is FAILED.")


class DetailErrorSerializer(serializers.Serializer):
    """How DRF-level refusals answer (401, 403, 404, 405, 406, 415, 429 outside the generate endpoints)."""

    detail = serializers.CharField()
    code = serializers.CharField()


ENVELOPE_FINAL = OpenApiResponse(EnvelopeSerializer, description="The run has ended: SUCCESS, PARTIAL or FAILED.")
ENVELOPE_IN_FLIGHT = OpenApiResponse(EnvelopeSerializer, description="The run is PENDING or RUNNING.")
ENVELOPE_INVALID = OpenApiResponse(
    EnvelopeSerializer, description="A FAILED envelope: VALIDATION_ERROR, with `error.details` per field."
)
ENVELOPE_TOO_LARGE = OpenApiResponse(
    EnvelopeSerializer, description="A FAILED envelope: the body is over AICMO_MAX_REQUEST_BYTES."
)
ENVELOPE_THROTTLED = OpenApiResponse(
    EnvelopeSerializer, description="A FAILED envelope (RATE_LIMIT); see the Retry-After header."
)
UNAUTHENTICATED = OpenApiResponse(DetailErrorSerializer, description="No or bad credentials.")
NO_ROLE = OpenApiResponse(
    DetailErrorSerializer, description="Generating needs the marketer or manager role in the brand."
)
NOT_FOUND = OpenApiResponse(DetailErrorSerializer, description="No such object among your brands' objects.")
FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid query: DRF's field errors, per field.")
DETAIL_ERROR = OpenApiResponse(
    DetailErrorSerializer, description="A refused request, e.g. a NUL character (%00) in the query."
)

GENERATE_RESPONSES = {
    200: ENVELOPE_FINAL,
    202: ENVELOPE_IN_FLIGHT,
    400: ENVELOPE_INVALID,
    401: UNAUTHENTICATED,
    403: NO_ROLE,
    413: ENVELOPE_TOO_LARGE,
    429: ENVELOPE_THROTTLED,
}
