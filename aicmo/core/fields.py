"""Serializer fields that take JSON values of the type the API schema declares. DRF's own fields coerce
(`5` → `"5"`, `"5"` → `5`, `"yes"` → `True`), so a request the schema calls invalid would be accepted: these
refuse it with a field error instead. Django forms hand them Python values of the right type already."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    default_error_messages = {"not_a_string": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0, "maximum": 9999999999.99},
            {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
        ],
        "description": "An amount: a JSON number or a decimal string, at most two decimals.",
    }
)
class AmountField(serializers.DecimalField):
    """A money amount; JSON numbers (as the contract's examples send) and decimal strings are both documented."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)
