"""Quality checks computed for every revision. Blocking issues stop approval; warnings inform.

`evaluate` is pure: it takes the text and the brand kit and returns a report
`{"blocking": [{"code", "message"}], "warnings": [...]}` stored with the revision."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .platforms import (
    AD_PRIMARY_TEXT_WORDS,
    EMAIL_SUBJECT_MAX,
    MIN_IMAGE_PROMPTS,
    PLATFORMS,
    platform_for_kind,
    post_length,
)

PLACEHOLDERS = [
    (re.compile(r"\[\s*insert\b[^\]]*\]", re.I), "an [Insert …] placeholder"),
    (re.compile(r"\bTBD\b|\bTBC\b"), "TBD"),
    (re.compile(r"lorem ipsum", re.I), "Lorem ipsum"),
    (re.compile(r"\{\{[^}]*\}\}"), "a {{…}} template variable"),
    # "[Brand Name]" but not a Markdown link such as "[link](https://…)"
    (
        re.compile(r"\[\s*(brand|company|product|client|your|name|date|link|url|city|cta)[^\]]{0,30}\](?!\()", re.I),
        "a [Brand Name]-style placeholder",
    ),
    (re.compile(r"\bXX+\b|\$X+\b"), "an XX placeholder"),
    # Links that go nowhere: "[Shop](#)", "[Shop]()", "[Shop]( )", href="#", and example.com addresses.
    (re.compile(r"\]\(\s*#?\s*\)|\(\s*#\s*\)"), "a link to nowhere"),
    (re.compile(r"""href\s*=\s*["']\s*#?\s*["']""", re.I), "a link to nowhere"),
    (re.compile(r"\b(?:https?://)?(?:[\w-]+\.)*example\.(?:com|org|net)\b[^\s)\]]*", re.I), "an example.com link"),
]


def over_limit_warning(label: str, max_chars: int) -> str:
    """The run warning of a generated post still over its platform's limit: about that text only, so a later
    revision drops it (see `is_text_warning`)."""
    return f"Still over {label}'s {max_chars}-character limit after one rewrite: shorten it before approval."


def is_text_warning(warning: str) -> bool:
    """Whether a stored generation warning describes the text (and so is stale once the text changes)."""
    return warning.startswith("Still over ") and "-character limit" in warning


def _issue(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def evaluate(
    *,
    kind: str,
    title: str,
    content_markdown: str,
    hashtags: Sequence[str],
    structured: Mapping[str, Any],
    brand: Mapping[str, Any],
) -> dict[str, list[dict[str, str]]]:
    blocking: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    text = content_markdown or ""
    everything = "\n".join([title or "", text, " ".join(hashtags)])

    if not text.strip():
        blocking.append(_issue("blank", "The content is empty."))
    for pattern, label in PLACEHOLDERS:
        match = pattern.search(everything)
        if match:
            blocking.append(_issue("placeholder", f"Contains {label}: “{match.group(0)}”. Replace it with real copy."))
    for word in brand.get("banned_words") or []:
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", everything, re.I):
            blocking.append(_issue("banned_word", f"Uses the banned word “{word}”."))
    for disclaimer in brand.get("required_disclaimers") or []:
        if disclaimer and _normalise(disclaimer) not in _normalise(text):
            blocking.append(_issue("missing_disclaimer", f"Missing the required disclaimer “{disclaimer}”."))

    if kind == "content_calendar":
        for entry in structured.get("entries") or []:
            entry_platform = PLATFORMS.get(str(entry.get("platform")))
            length = len(str(entry.get("text") or ""))
            if entry_platform and length > entry_platform.max_chars:
                blocking.append(
                    _issue(
                        "over_limit",
                        f"{entry.get('date')} {entry_platform.label} entry: {length} characters, over the "
                        f"limit of {entry_platform.max_chars}.",
                    )
                )

    platform = platform_for_kind(kind)
    if platform:
        length = post_length(text, hashtags)
        if length > platform.max_chars:
            blocking.append(
                _issue("over_limit", f"{length} characters: over {platform.label}'s limit of {platform.max_chars}.")
            )
        if platform.max_hashtags is not None and len(hashtags) > platform.max_hashtags:
            blocking.append(
                _issue(
                    "too_many_hashtags",
                    f"{len(hashtags)} hashtags: {platform.label} allows at most {platform.max_hashtags}.",
                )
            )
        elif len(hashtags) > platform.recommended_hashtags:
            warnings.append(
                _issue(
                    "many_hashtags",
                    f"{len(hashtags)} hashtags: more than the "
                    f"{platform.recommended_hashtags} that work best on "
                    f"{platform.label}.",
                )
            )

    if kind == "ad_copy":
        low, high = AD_PRIMARY_TEXT_WORDS
        words = len(str(structured.get("primary_text", "")).split())
        if structured.get("primary_text") is not None and not low <= words <= high:
            warnings.append(_issue("ad_length", f"Primary text has {words} words; ads work best with {low}–{high}."))
        prompts = structured.get("image_prompts")
        if prompts is not None and len(prompts) < MIN_IMAGE_PROMPTS:
            warnings.append(
                _issue("few_image_prompts", f"{len(prompts)} image prompts; give at least {MIN_IMAGE_PROMPTS}.")
            )
    if kind == "email_copy" and len(str(structured.get("subject", ""))) > EMAIL_SUBJECT_MAX:
        blocking.append(_issue("over_limit", f"Subject line over {EMAIL_SUBJECT_MAX} characters."))
    return {"blocking": blocking, "warnings": warnings}


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())
