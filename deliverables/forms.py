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

    def __init__(self, *args, with_hashtags: bool = True, with_content: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_hashtags:
            del self.fields["hashtags"]
        if not with_content:  # a content calendar is edited entry by entry (CalendarEntryFormSet)
            del self.fields["content_markdown"]

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


TONE_CHOICES = [
    ("formal", "Formal"),
    ("friendly", "Friendly"),
    ("playful", "Playful"),
    ("bold", "Bold"),
    ("professional", "Professional"),
    ("warm", "Warm"),
]


class RewriteForm(forms.Form):
    """The improve loop on the deliverable page: one button per action, with the options beside them."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("regenerate", "shorten", "expand", "tone", "translate", "variants")]
    )
    selection = forms.CharField(
        label="Only this passage (optional)",
        required=False,
        strip=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "data-rewrite-selection": ""}),
        help_text="Select text in the Amend editor (or paste a passage of the current text): only it is rewritten.",
    )
    instructions = forms.CharField(
        label="Instructions (optional)",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Lead with the offer"}),
    )
    tone = forms.ChoiceField(label="Tone", choices=TONE_CHOICES, required=False)
    language = forms.ChoiceField(label="Language", required=False, choices=())
    count = forms.IntegerField(label="Variants", min_value=1, max_value=5, required=False, initial=2)

    def __init__(self, *args, **kwargs):
        from .services.rewrite import LANGUAGES

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [(code, name) for code, name in LANGUAGES.items() if code != "en"]

    add_service_error = AmendForm.add_service_error


class CalendarEntryForm(forms.Form):
    """One row of a content calendar: when, where, a title and the post's text."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    platform = forms.ChoiceField(label="Platform", choices=())
    title = forms.CharField(label="Title", max_length=120)
    text = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 2}), strip=True)

    def __init__(self, *args, **kwargs):
        from .platforms import PLATFORMS

        super().__init__(*args, **kwargs)
        # the empty choice lets the blank extra row stay unchanged (so it is not an entry)
        self.fields["platform"].choices = [("", "—"), *((key, p.label) for key, p in PLATFORMS.items())]


CalendarEntryFormSet = forms.formset_factory(
    CalendarEntryForm, extra=1, can_delete=True, max_num=200, validate_max=True, absolute_max=200
)


def calendar_entries_of(formset) -> list[dict[str, str]]:
    """The kept rows of a valid formset as entries (an untouched extra row is not an entry)."""
    entries = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        entries.append(
            {
                "date": data["date"].isoformat(),
                "platform": data["platform"],
                "title": data["title"],
                "text": data["text"],
            }
        )
    return entries
