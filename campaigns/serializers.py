from rest_framework import serializers

from aicmo.core.fields import AmountField, StrictCharField, StrictIntegerField, StrictSlugField
from brands.selectors import brand_for
from deliverables.platforms import EMAIL_CHANNEL, PLATFORMS, normalize_channel, post_kind

from .services import CAMPAIGN_KINDS

CHANNEL_NAMES = ", ".join([*PLATFORMS, EMAIL_CHANNEL])


class ChannelListField(serializers.ListField):
    """Platform names as people write them ('LinkedIn', 'X', 'Email'), normalised, each once."""

    child = StrictCharField(max_length=40)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        channels, unknown = [], []
        for name in names:
            channel = normalize_channel(name)
            if channel is None:
                unknown.append(name)
            elif channel not in channels:
                channels.append(channel)
        if unknown:
            raise serializers.ValidationError(f"Unknown platform(s): {', '.join(unknown)}. Use: {CHANNEL_NAMES}.")
        return channels


class BrandedBriefSerializer(serializers.Serializer):
    """Resolves the optional `brand` slug to one of the user's brands (default: their only brand)."""

    brand = StrictSlugField(required=False, max_length=60, help_text="Brand slug; defaults to your only brand.")

    def validate(self, attrs):
        user = self.context["request"].user
        brand = brand_for(user, attrs.get("brand"))
        if brand is None:
            message = (
                "No brand of yours has this slug."
                if attrs.get("brand")
                else "You belong to several brands (or none): name one with `brand`."
            )
            raise serializers.ValidationError({"brand": [message]})
        attrs["brand"] = brand
        return attrs


class CampaignBriefSerializer(BrandedBriefSerializer):
    campaign_name = StrictCharField(max_length=200)
    objectives = serializers.ListField(
        child=StrictCharField(max_length=200), required=False, max_length=10, default=list
    )
    platforms = ChannelListField()
    budget = AmountField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    timeline_days = StrictIntegerField(min_value=1, max_value=365, required=False, default=30)
    audience = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    key_message = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    deliverables = serializers.ListField(
        child=serializers.ChoiceField(choices=[*CAMPAIGN_KINDS, *(post_kind(p) for p in PLATFORMS)]),
        required=False,
        max_length=20,
        default=list,
        help_text="A subset of kinds to generate; all by default.",
    )
