"""Page forms of briefs. They render the fields (labels, help, checkboxes) and hand the values to the API's
DRF serializer, which stays the one authority on what a valid brief is; its errors land beside the fields."""

from collections.abc import Mapping
from typing import Any

from django import forms

from brands.selectors import brands_for
from deliverables.kinds import KINDS
from deliverables.platforms import EMAIL_CHANNEL, PLATFORMS

from .serializers import CampaignBriefSerializer
from .services import CAMPAIGN_KINDS

CHANNEL_CHOICES = [*((p.key, p.label) for p in PLATFORMS.values()), (EMAIL_CHANNEL, "Email")]
KIND_LABELS = {"social_posts": "Social posts (one per platform)"}


def kind_choices(kinds) -> list[tuple[str, str]]:
    return [(kind, KIND_LABELS.get(kind) or KINDS[kind].label) for kind in kinds]


def lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def flatten_errors(errors: Any) -> list[str]:
    """DRF error details (lists, dicts per list index, nested) as plain messages."""
    if isinstance(errors, Mapping):
        return [message for value in errors.values() for message in flatten_errors(value)]
    if isinstance(errors, list | tuple):
        return [message for value in errors for message in flatten_errors(value)]
    return [str(errors)]


class SerializerBackedForm(forms.Form):
    """Field types and widgets are the form's; validation rules are the serializer's. `brief` holds the
    serializer's validated data once the form is valid."""

    serializer_class: type
    field_map: dict[str, str] = {}  # serializer field → form field, where the names differ

    brand = forms.ChoiceField(label="Brand")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        brands = list(brands_for(request.user).order_by("name"))
        self.fields["brand"].choices = [(b.slug, b.name) for b in brands]
        if len(brands) == 1:
            self.fields["brand"].initial = brands[0].slug
        self.brief: dict[str, Any] = {}

    def payload(self) -> dict[str, Any]:
        """The cleaned values as the API would receive them (empty optional values left out)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", [])}

    def clean(self):
        cleaned = super().clean()
        serializer = self.serializer_class(data=self.payload(), context={"request": self.request})
        if serializer.is_valid():
            self.brief = dict(serializer.validated_data)
            return cleaned
        for name, errors in serializer.errors.items():
            field = self.field_map.get(name, name)
            if field in self.fields and field not in self.errors:
                self.add_error(field, flatten_errors(errors))
            elif field not in self.fields:
                self.add_error(None, flatten_errors(errors))
        return cleaned


class CampaignBriefForm(SerializerBackedForm):
    serializer_class = CampaignBriefSerializer

    campaign_name = forms.CharField(
        label="Campaign name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    objectives = forms.CharField(
        label="Objectives",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, e.g. “Awareness” or “500 sign-ups”.",
    )
    platforms = forms.MultipleChoiceField(
        label="Channels",
        choices=CHANNEL_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="One post is written for each social platform ticked.",
    )
    budget = forms.DecimalField(
        label="Budget (USD)",
        required=False,
        min_value=0,
        decimal_places=2,
        max_digits=12,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )
    timeline_days = forms.IntegerField(
        label="Timeline (days)",
        required=False,
        initial=30,
        min_value=1,
        max_value=365,
        widget=forms.NumberInput(attrs={"min": "1", "max": "365"}),
    )
    audience = forms.CharField(
        label="Audience",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Leave empty to use the brand kit's audience.",
    )
    key_message = forms.CharField(
        label="Key message", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    deliverables = forms.MultipleChoiceField(
        label="Deliverables",
        choices=kind_choices(CAMPAIGN_KINDS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for the full set.",
    )

    def payload(self):
        payload = super().payload()
        payload["objectives"] = lines(self.cleaned_data.get("objectives", ""))
        return payload
