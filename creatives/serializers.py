from rest_framework import serializers

from aicmo.core.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from campaigns.models import Campaign
from campaigns.serializers import BrandedBriefSerializer, ChannelListField
from deliverables.platforms import PLATFORMS, post_kind

from .services import CREATIVE_KINDS


class CreativesBriefSerializer(BrandedBriefSerializer):
    product = StrictCharField(max_length=200)
    platforms = ChannelListField()
    tone = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    style = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    pitch = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    count = StrictIntegerField(
        min_value=1, max_value=6, required=False, default=1, help_text="How many ad creatives (variants) to write."
    )
    with_images = StrictBooleanField(required=False, default=False)
    campaign = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="Id of a campaign of the same brand."
    )
    deliverables = serializers.ListField(
        child=serializers.ChoiceField(choices=[*CREATIVE_KINDS, *(post_kind(p) for p in PLATFORMS)]),
        required=False,
        max_length=20,
        default=list,
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("campaign"):
            campaign = Campaign.objects.filter(pk=attrs["campaign"], brand=attrs["brand"]).first()
            if campaign is None:
                raise serializers.ValidationError({"campaign": ["No campaign of this brand has this id."]})
            attrs["campaign"] = campaign
        return attrs
