"""Page forms of the review workflow. The services validate; these forms only shape the input."""

import re

from django import forms

from aicmo.core.errors import ApplicationError


class AmendForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    title = forms.CharField(label="Title", max_length=240, required=False)
    content_markdown = forms.CharField(
        label="Content (Markdown)", strip=False, widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "true"})
    )
    hashtags = forms.CharField(
        label="Hashtags",
        required=False,
        max_length=1000,
        help_text="Separated by spaces or commas, e.g. #coffee #coldbrew",
    )
    note = forms.CharField(
        label="What changed, and why",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Shorter hook, added the offer"}),
    )

    def __init__(self, *args, with_hashtags: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_hashtags:
            del self.fields["hashtags"]

    def hashtag_list(self) -> list[str] | None:
        """None when the field is absent (the current hashtags are kept)."""
        if "hashtags" not in self.fields:
            return None
        return [tag for tag in re.split(r"[\s,]+", self.cleaned_data.get("hashtags") or "") if tag]

    def add_service_error(self, error: ApplicationError) -> None:
        """Put a refusal's per-field details beside the fields; the rest above the form."""
        details = error.details if isinstance(error.details, dict) else {}
        fields = {
            name: messages
            for name, messages in details.items()
            if name in self.fields and not self.fields[name].widget.is_hidden and isinstance(messages, list)
        }
        for name, messages in fields.items():
            self.add_error(name, [str(message) for message in messages])
        if not fields:  # conflicts (stale version, in review) and anything not about one visible field
            self.add_error(None, error.message)


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
