"""What the generate and run endpoints answer, for /api/schema/: the envelope (its one JSON Schema, from
envelope_schema.py) and the refusals. Documentation only: envelopes are built by `envelope.build_envelope` and
checked by `envelope.validate_envelope`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from .envelope_schema import openapi_components


class EnvelopeSerializer(serializers.Serializer):
    """A name for the `Envelope` component; `envelope_component` (a post-processing hook) puts the one JSON
    Schema of envelope_schema.py there, the same the validator checks every envelope against. (A serializer
    without fields would be documented as no body at all.)"""

    status = serializers.CharField()


def envelope_component(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(openapi_components())
    return result


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
ENVELOPE_BUDGET = OpenApiResponse(
    EnvelopeSerializer, description="A FAILED envelope (BUDGET_EXCEEDED): the brand's monthly budget is spent."
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
    402: ENVELOPE_BUDGET,
    403: NO_ROLE,
    413: ENVELOPE_TOO_LARGE,
    429: ENVELOPE_THROTTLED,
}
