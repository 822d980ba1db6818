"""The kinds of deliverable: for each, the JSON Schema the model must answer with, what to ask for, and how
the answer becomes Markdown. Every kind is structured, so every answer is validated on arrival."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .platforms import (
    AD_PRIMARY_TEXT_WORDS,
    EMAIL_SUBJECT_MAX,
    MIN_IMAGE_PROMPTS,
    PLATFORMS,
    Platform,
    hashtags_in_style,
    post_kind,
)


@dataclass(frozen=True)
class Draft:
    """A generated answer turned into what a Revision stores."""

    title: str
    content_markdown: str
    hashtags: list[str]
    structured: dict[str, Any]


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label: str
    instructions: str
    schema: Callable[[Mapping[str, Any]], dict]  # from the slot's context (platforms, limits)
    render: Callable[[Mapping[str, Any], Mapping[str, Any]], Draft]  # (answer, context) → Draft


def _string(min_length: int = 1, max_length: int | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string", "minLength": min_length}
    if max_length:
        schema["maxLength"] = max_length
    return schema


def _object(**properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


# --- long-form documents --------------------------------------------------------------------------------


def _document_schema(context: Mapping[str, Any]) -> dict:
    return _object(title=_string(max_length=200), content_markdown=_string(min_length=200))


def _render_document(answer: Mapping[str, Any], context: Mapping[str, Any]) -> Draft:
    return Draft(
        title=answer["title"].strip(), content_markdown=answer["content_markdown"].strip(), hashtags=[], structured={}
    )


# --- content calendar -----------------------------------------------------------------------------------


def _calendar_schema(context: Mapping[str, Any]) -> dict:
    platforms = (context.get("brief") or {}).get("platforms") or list(PLATFORMS)  # the run's chosen platforms
    entry = _object(
        date={"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        platform={"type": "string", "enum": list(platforms)},
        title=_string(max_length=120),
        text=_string(),
    )
    return _object(
        title=_string(max_length=200), entries={"type": "array", "items": entry, "minItems": 1, "maxItems": 200}
    )


def render_calendar(title: str, entries: list[Mapping[str, Any]]) -> str:
    """A content calendar as Markdown: its title and a table of its entries in date order."""
    rows = ["| Date | Platform | Title | Copy |", "|---|---|---|---|"]
    for entry in sorted(entries, key=lambda e: (e["date"], e["platform"])):
        label = PLATFORMS[entry["platform"]].label if entry["platform"] in PLATFORMS else entry["platform"]
        cells = [entry["date"], label, entry["title"], entry["text"]]
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return f"## {title.strip()}\n\n" + "\n".join(rows)


def _render_calendar(answer: Mapping[str, Any], context: Mapping[str, Any]) -> Draft:
    entries = sorted(answer["entries"], key=lambda e: (e["date"], e["platform"]))
    return Draft(
        title=answer["title"].strip(),
        content_markdown=render_calendar(answer["title"], entries),
        hashtags=[],
        structured={"entries": [dict(e) for e in entries]},
    )


# --- social posts ---------------------------------------------------------------------------------------


def _post_schema(platform: Platform) -> Callable[[Mapping[str, Any]], dict]:
    def schema(context: Mapping[str, Any]) -> dict:
        hashtags: dict[str, Any] = {
            "type": "array",
            "items": {"type": "string", "pattern": r"^#\w+$"},
            "maxItems": platform.max_hashtags or 30,
        }
        fields: dict[str, Any] = {"title": _string(max_length=120)}
        if platform.format == "script":
            beat = _object(
                time=_string(max_length=20), visual=_string(max_length=240), voiceover=_string(max_length=300)
            )
            fields["hook"] = _string(max_length=150)
            fields["script"] = {"type": "array", "items": beat, "minItems": 3, "maxItems": 6}
            fields["text"] = _string(max_length=min(platform.target_chars, 300))  # the caption
        else:
            fields["text"] = _string(max_length=platform.max_chars)
        fields["hashtags"] = hashtags
        return _object(**fields)

    return schema


def _render_post(answer: Mapping[str, Any], context: Mapping[str, Any]) -> Draft:
    hashtags = [tag if tag.startswith("#") else f"#{tag}" for tag in answer["hashtags"]]
    platform = PLATFORMS.get(str(context.get("platform") or ""))
    if platform is not None:
        hashtags = hashtags_in_style(hashtags, platform)
    if answer.get("script"):  # a short-video platform: hook, script and caption together
        # Plain-text labels, no Markdown emphasis: the post preview shows the text as the platform would.
        script = [dict(beat) for beat in answer["script"]]
        lines = [f"Hook (first seconds): {answer['hook'].strip()}", "", "Script:"]
        lines += [
            f"{i}. {beat['time'].strip()}: {beat['visual'].strip().rstrip('.')}. "
            f"Voice-over: “{beat['voiceover'].strip()}”"
            for i, beat in enumerate(script, 1)
        ]
        lines += ["", f"Caption: {answer['text'].strip()}"]
        return Draft(
            title=answer["title"].strip(),
            content_markdown="\n".join(lines),
            hashtags=hashtags,
            structured={"hook": answer["hook"].strip(), "script": script, "caption": answer["text"].strip()},
        )
    return Draft(
        title=answer["title"].strip(), content_markdown=answer["text"].strip(), hashtags=hashtags, structured={}
    )


def _post_spec(platform: Platform) -> KindSpec:
    what = "one short video (hook, script and caption)" if platform.format == "script" else "one post"
    return KindSpec(
        kind=post_kind(platform.key),
        label=f"{platform.label} post",
        instructions=(
            f"Write {what} for {platform.label} carrying the campaign's key message, adapted to the platform. "
            f"Everything (text, hashtags and any required disclaimer) must stay under {platform.target_chars} "
            "characters. Give the hashtags separately (each starting with #), a short internal title, and a "
            "clear call to action in the text."
        ),
        schema=_post_schema(platform),
        render=_render_post,
    )


# --- email ------------------------------------------------------------------------------------------------


def _email_schema(context: Mapping[str, Any]) -> dict:
    return _object(
        subject=_string(max_length=EMAIL_SUBJECT_MAX),
        preheader=_string(max_length=140),
        body_markdown=_string(min_length=100),
    )


def _render_email(answer: Mapping[str, Any], context: Mapping[str, Any]) -> Draft:
    markdown = (
        f"**Subject:** {answer['subject'].strip()}\n\n**Preheader:** {answer['preheader'].strip()}\n\n"
        f"---\n\n{answer['body_markdown'].strip()}"
    )
    return Draft(
        title=f"Email: {answer['subject'].strip()}",
        content_markdown=markdown,
        hashtags=[],
        structured={"subject": answer["subject"].strip(), "preheader": answer["preheader"].strip()},
    )


# --- ad creative ------------------------------------------------------------------------------------------


def _ad_schema(context: Mapping[str, Any]) -> dict:
    return _object(
        headline=_string(max_length=120),
        primary_text=_string(min_length=100),
        call_to_action=_string(max_length=60),
        image_prompts={"type": "array", "items": _string(min_length=10), "minItems": MIN_IMAGE_PROMPTS, "maxItems": 6},
    )


def render_ad(answer: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> Draft:
    prompts = [p.strip() for p in answer["image_prompts"]]
    markdown = (
        f"## {answer['headline'].strip()}\n\n{answer['primary_text'].strip()}\n\n"
        f"**Call to action:** {answer['call_to_action'].strip()}\n\n### Image prompts\n\n"
        + "\n".join(f"{i}. {p}" for i, p in enumerate(prompts, 1))
    )
    structured = {
        "headline": answer["headline"].strip(),
        "primary_text": answer["primary_text"].strip(),
        "call_to_action": answer["call_to_action"].strip(),
        "image_prompts": prompts,
    }
    return Draft(title=answer["headline"].strip(), content_markdown=markdown, hashtags=[], structured=structured)


_low, _high = AD_PRIMARY_TEXT_WORDS

KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            kind="campaign_brief",
            label="Campaign brief & strategy",
            instructions=(
                "Write the campaign brief and strategy in Markdown with these sections (## headings): Objectives, "
                "Audience, Positioning, Channel plan (one line per platform), KPIs (measurable: use only targets "
                "the brief gives, otherwise name the metric and say the target is to be set), Budget split (a table "
                "of channel and amount that adds up to the brief's budget, or 'to set' without one), and Timeline "
                "(phases across the campaign's days)."
            ),
            schema=_document_schema,
            render=_render_document,
        ),
        KindSpec(
            kind="messaging_framework",
            label="Messaging framework",
            instructions=(
                "Write the messaging framework in Markdown: the core message, a value proposition, three message "
                "pillars each with proof points, tone guidance with do / don't examples, and sample taglines."
            ),
            schema=_document_schema,
            render=_render_document,
        ),
        KindSpec(
            kind="content_calendar",
            label="Content calendar",
            instructions=(
                "Plan a content calendar across the campaign's timeline starting on the start date: dated entries "
                "(YYYY-MM-DD) for each requested platform, about two a week per platform, each with a short title "
                "and the post copy in that platform's style and within its limit (required disclaimers included). "
                "Vary the angle from entry to entry: no two entries may read the same."
            ),
            schema=_calendar_schema,
            render=_render_calendar,
        ),
        KindSpec(
            kind="email_copy",
            label="Email copy",
            instructions=(
                f"Write one campaign email: a subject line under {EMAIL_SUBJECT_MAX} characters, a preheader, and a "
                "Markdown body with a greeting, the key message, benefits as a short list, and one call to action."
            ),
            schema=_email_schema,
            render=_render_email,
        ),
        KindSpec(
            kind="ad_copy",
            label="Ad creative",
            instructions=(
                f"Write one ad creative: a headline, primary text of {_low}–{_high} words, a call to action of a "
                f"few words, and at least {MIN_IMAGE_PROMPTS} detailed image prompts (subject, setting, light, "
                "style) an image model can render."
            ),
            schema=_ad_schema,
            render=render_ad,
        ),
        *(_post_spec(platform) for platform in PLATFORMS.values()),
    )
}


def spec_for(kind: str) -> KindSpec:
    return KINDS[kind]


# The fields whose length the shortener owns: the model is asked for them with `maxLength`, but an answer over
# it is accepted on arrival and shortened (a rejected answer would only fall through to another provider).
SHORTENED_FIELDS = frozenset({"text"})


def validation_schema(schema: Mapping[str, Any]) -> dict:
    """`schema` without `maxLength` on the fields the shortener owns, wherever they are nested."""

    def relax(node: Any, name: str = "") -> Any:
        if isinstance(node, Mapping):
            out = {}
            for key, value in node.items():
                if key == "maxLength" and name in SHORTENED_FIELDS:
                    continue
                if key == "properties" and isinstance(value, Mapping):
                    out[key] = {prop: relax(sub, prop) for prop, sub in value.items()}
                else:
                    out[key] = relax(value, name if key == "items" else "")
            return out
        if isinstance(node, list):
            return [relax(item) for item in node]
        return node

    return relax(schema)
