from rest_framework import serializers

from campaigns.models import Campaign
from campaigns.serializers import BrandedBriefSerializer, ChannelListField
from deliverables.platforms import PLATFORMS, post_kind

from .services import CREATIVE_KINDS


class CreativesBriefSerializer(BrandedBriefSerializer):
    product = serializers.CharField(max_length=200)
    platforms = ChannelListField()
    tone = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    style = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    pitch = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    count = serializers.IntegerField(min_value=1, max_value=6, required=False, default=1,
                                     help_text="How many ad creatives (variants) to write.")
    with_images = serializers.BooleanField(required=False, default=False)
    campaign = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                        help_text="Id of a campaign of the same brand.")
    deliverables = serializers.ListField(
        child=serializers.ChoiceField(choices=[*CREATIVE_KINDS, *(post_kind(p) for p in PLATFORMS)]),
        required=False, max_length=20, default=list)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("campaign"):
            campaign = Campaign.objects.filter(pk=attrs["campaign"], brand=attrs["brand"]).first()
            if campaign is None:
                raise serializers.ValidationError({"campaign": ["No campaign of this brand has this id."]})
            attrs["campaign"] = campaign
        return attrs
