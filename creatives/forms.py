"""The creatives brief form (see campaigns.forms: the API serializer decides what is valid)."""

from django import forms

from brands.selectors import brands_for
from campaigns.forms import CHANNEL_CHOICES, SerializerBackedForm, kind_choices
from campaigns.models import Campaign
from deliverables.platforms import PLATFORMS

from .serializers import CreativesBriefSerializer
from .services import CREATIVE_KINDS


class CreativesBriefForm(SerializerBackedForm):
    serializer_class = CreativesBriefSerializer

    product = forms.CharField(
        label="Product or offer", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    platforms = forms.MultipleChoiceField(
        label="Platforms",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[c for c in CHANNEL_CHOICES if c[0] in PLATFORMS],
        help_text="A post is written for each platform ticked.",
    )
    tone = forms.CharField(
        label="Tone", required=False, max_length=200, widget=forms.TextInput(attrs={"placeholder": "e.g. warm, witty"})
    )
    style = forms.CharField(
        label="Visual style",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "e.g. bright flat-lay photography"}),
    )
    pitch = forms.CharField(
        label="Pitch",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What makes it worth buying, in a sentence or two.",
    )
    count = forms.IntegerField(
        label="Ad variants",
        required=False,
        initial=1,
        min_value=1,
        max_value=6,
        widget=forms.NumberInput(attrs={"min": "1", "max": "6"}),
    )
    with_images = forms.BooleanField(label="Generate an image for each ad", required=False)
    campaign = forms.TypedChoiceField(
        label="Campaign",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Optional: file the run under one of the brand's campaigns.",
    )
    deliverables = forms.MultipleChoiceField(
        label="Deliverables",
        choices=kind_choices(CREATIVE_KINDS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave both unticked for ads and posts.",
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        campaigns = (
            Campaign.objects.filter(brand__in=brands_for(request.user))
            .select_related("brand")
            .order_by("brand__name", "-created_at")[:200]
        )
        self.fields["campaign"].choices = [("", "— none —"), *((c.pk, f"{c.brand.name} / {c.name}") for c in campaigns)]

    def payload(self):
        payload = super().payload()
        payload["with_images"] = bool(self.cleaned_data.get("with_images"))
        return payload
