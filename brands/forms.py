"""The brand kit form of the brand page: list fields are edited one item per line."""

from django import forms

from .models import Brand
from .services import KIT_FIELDS


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class LinesField(forms.CharField):
    """A JSON list of strings, edited as one item per line."""

    def __init__(self, *, max_items: int = 50, **kwargs):
        self.max_items = max_items
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        items = _lines(super().to_python(value))
        if len(items) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items} lines.")
        if any(len(item) > 500 for item in items):
            raise forms.ValidationError("Each line is at most 500 characters.")
        return items


class ColourInput(forms.TextInput):
    input_type = "text"

    def __init__(self):
        super().__init__(attrs={"pattern": "#[0-9a-fA-F]{6}", "placeholder": "#1F6FEB", "size": 8})


class BrandKitForm(forms.ModelForm):
    voice_examples = LinesField(label="Sounds like", help_text="Short lines in the brand's voice, one per line.")
    banned_words = LinesField(label="Banned words", help_text="One per line; the quality checks block them.")
    required_disclaimers = LinesField(label="Required disclaimers", help_text="One per line, included word for word.")
    languages = LinesField(
        label="Languages", max_items=10, help_text="Language codes, one per line; the first is the default."
    )
    website_url = forms.URLField(label="Website", required=False, assume_scheme="https", max_length=200)
    offer_url = forms.URLField(
        label="Offer page",
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text="Where calls to action send people.",
    )
    logo = forms.ImageField(required=False, help_text="PNG, JPEG or WebP, at most 2 MB.")
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = Brand
        fields = list(KIT_FIELDS)
        widgets = {
            "audience": forms.Textarea(attrs={"rows": 3}),
            "primary_color": ColourInput(),
            "secondary_color": ColourInput(),
        }
        labels = {"monthly_budget_usd": "Monthly budget (USD)", "website_url": "Website", "offer_url": "Offer page"}

    def clean_languages(self):
        codes = self.cleaned_data["languages"]
        bad = [code for code in codes if not code.replace("-", "").isalpha() or len(code) > 10]
        if bad:
            raise forms.ValidationError(f"Not a language code: {', '.join(bad)}")
        return codes

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
