"""Prompts for generated deliverables. The brand kit goes into every system prompt; a post's platform craft
(from the platform registry) into its task."""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from aicmo.llm.base import CompletionRequest, Message

from .kinds import spec_for, validation_schema
from .platforms import PLATFORMS, emoji_allowed, platform_for_kind


def brand_links(brand: Mapping[str, Any]) -> dict[str, str]:
    """The links a piece may use, from the brand kit (read defensively: older kits have no such fields)."""
    links = {}
    for key, label in (("offer_url", "offer"), ("website_url", "website")):
        url = str(brand.get(key) or "").strip()
        if url.startswith(("https://", "http://")):
            links[label] = url
    return links


def brand_instructions(brand: Mapping[str, Any]) -> str:
    industry = f" ({brand['industry']})" if brand.get("industry") else ""
    lines = [f"You write for the brand {brand['name']}{industry}."]
    if brand.get("audience"):
        lines.append(f"Its audience: {brand['audience']}")
    if brand.get("tone_of_voice"):
        lines.append(f"Its voice: {brand['tone_of_voice']}")
    if brand.get("voice_examples"):
        lines.append("Lines that sound like the brand: " + " / ".join(brand["voice_examples"]))
    if brand.get("banned_words"):
        lines.append("Never use these words: " + ", ".join(brand["banned_words"]) + ".")
    if brand.get("required_disclaimers"):
        lines.append("Every piece must include, word for word: " + " | ".join(brand["required_disclaimers"]))
    links = brand_links(brand)
    if links:
        lines.append(
            "Links you may use (no others): " + ", ".join(f"{label}: {url}" for label, url in links.items()) + "."
        )
    else:
        lines.append("The brand kit has no links: write no link and no URL at all.")
    lines.append(
        "Emoji suit this voice: use them sparingly where the platform welcomes them."
        if emoji_allowed(brand)
        else "Use no emoji."
    )
    visual = image_style_line(brand)
    if visual:
        lines.append(f"Image prompts you write follow the brand's look: {visual}")
    lines.append(f"Write in the language with code '{brand.get('language', 'en')}'.")
    return "\n".join(lines)


def image_style_line(brand: Mapping[str, Any]) -> str:
    """The brand's visual identity as one sentence (colours, image style, typeface), or "" when the kit has none."""
    parts = []
    colours = [c for c in (brand.get("primary_color"), brand.get("secondary_color")) if c]
    if colours:
        parts.append("brand colours " + " and ".join(colours))
    if brand.get("image_style"):
        parts.append(f"style: {brand['image_style']}")
    if brand.get("font_family"):
        parts.append(f"any text set in {brand['font_family']}")
    return "; ".join(parts) + "." if parts else ""


def image_prompt(prompt: str, brand: Mapping[str, Any]) -> str:
    """An image prompt with the brand's colours and image style appended (they are what "on brand" means)."""
    visual = image_style_line(brand)
    return f"{prompt.rstrip('. ')}. Brand look: {visual}" if visual else prompt


SYSTEM = (
    "You are AICMO, a senior marketing strategist and copywriter. You write finished, specific copy: never "
    "placeholders such as [Insert …], TBD or Lorem ipsum, never placeholder links such as (#) or example.com. "
    "Never invent facts: use only the figures (budgets, percentages, counts, prices, dates) the brief gives; "
    "any other target is named as a target to set. Answer only with JSON matching the given schema."
)


def slot_context(snapshot: Mapping[str, Any], *, kind: str, platform: str | None, variant: int | None) -> dict:
    """What a slot's prompt (and the offline templates) work from: the run's snapshot, the slot's own fields,
    and the craft of its platform(s) from the registry."""
    spec = platform_for_kind(kind)
    chosen = [p for p in (snapshot.get("brief") or {}).get("platforms") or [] if p in PLATFORMS]
    return {
        **snapshot,
        "platform": platform,
        "variant": variant,
        "platform_label": spec.label if spec else None,
        "platform_craft": dataclasses.asdict(spec) if spec else None,
        "platforms_craft": {key: dataclasses.asdict(PLATFORMS[key]) for key in chosen},
        "emoji_ok": emoji_allowed(snapshot.get("brand") or {}),
    }


def _task(kind: str, context: Mapping[str, Any]) -> str:
    spec = spec_for(kind)
    lines = [f"Task: {spec.instructions}"]
    platform = platform_for_kind(kind)
    if platform is not None:
        lines.append(platform.craft_instructions(emoji_ok=bool(context.get("emoji_ok"))))
    elif kind == "content_calendar":
        for key in context.get("platforms_craft") or {}:
            p = PLATFORMS[key]
            lines.append(f"- {p.label} entries: at most {p.target_chars} characters; {p.hook or ''}".rstrip("; "))
    return "\n".join(lines)


def deliverable_request(*, kind: str, context: Mapping[str, Any], trace_id: str) -> CompletionRequest:
    """The request for one deliverable slot. `context` comes from `slot_context`."""
    spec = spec_for(kind)
    brief = {key: value for key, value in context["brief"].items() if value not in (None, "", [])}
    user = (
        f"{_task(kind, context)}\n\n"
        f"Campaign brief (JSON):\n{json.dumps(brief, indent=2, default=str)}\n\n"
        f"Start date: {context.get('start_date')}\n"
        + (f"Platform: {context['platform']}\n" if context.get("platform") else "")
        + (f"This is variant {context['variant']} of several: make it distinct.\n" if context.get("variant") else "")
    )
    schema = spec.schema(context)
    return CompletionRequest(
        system=f"{SYSTEM}\n\n{brand_instructions(context['brand'])}",
        messages=(Message("user", user),),
        use_case=kind,
        task=kind,
        context=context,
        json_schema=schema,
        validation_schema=validation_schema(schema),
        max_tokens=settings.AICMO_LLM_MAX_TOKENS,
        trace_id=trace_id,
    )


def shorten_request(
    *,
    kind: str,
    context: Mapping[str, Any],
    text: str,
    hashtags: Sequence[str],
    limit: int,
    trace_id: str,
    title: str = "",
    structured: Mapping[str, Any] | None = None,
    attempt: int = 1,
) -> CompletionRequest:
    """One model pass of the shortener: the draft and its hashtags, to at most 95 % of the hard `limit`."""
    base = deliverable_request(kind=kind, context=context, trace_id=trace_id)
    target = int(limit * 0.95)
    length = len(text) + sum(len(t) + 1 for t in hashtags)
    disclaimers = list((context.get("brand") or {}).get("required_disclaimers") or [])
    ask = (
        f"This draft is {length} characters with its hashtags, over the {limit}-character limit"
        + (" (a previous shortening was still too long)" if attempt > 1 else "")
        + f". Rewrite it to at most {target} characters, hashtags"
        + (" and the required disclaimers (word for word)" if disclaimers else "")
        + " included, keeping the message, the platform's style and the call to action. Cut whole sentences or "
        "clauses; never end mid-word.\n\n"
        f"Draft:\n{text}\n\nHashtags: {' '.join(hashtags)}"
    )
    script = (structured or {}).get("script")
    return CompletionRequest(
        system=base.system,
        messages=(*base.messages, Message("user", ask)),
        use_case=f"{kind}:shorten",
        task=kind,
        context={
            **context,
            "shorten_to": target,
            "shorten_text": (structured or {}).get("caption") or text,
            "shorten_hashtags": list(hashtags),
            "shorten_title": title,
            "shorten_script": list(script or []),
        },
        json_schema=base.json_schema,
        validation_schema=base.validation_schema,
        max_tokens=base.max_tokens,
        trace_id=trace_id,
    )


REWRITE_TASKS = {
    "regenerate": "Write a fresh version of this text: new wording and a new angle, the same facts and offer.",
    "shorten": "Shorten this text to at most {target_chars} characters, cutting at sentence or clause boundaries. "
    "Keep the message, the call to action and any required disclaimer.",
    "expand": "Expand this text with specific, useful detail from the brief and the brand kit (no invented facts "
    "or figures), keeping its message and call to action.",
    "tone": "Rewrite this text in a {tone} tone of voice, keeping its facts, message and call to action.",
    "translate": "Translate this text into {language_name}. Keep names, hashtags, links and any required "
    "disclaimer's meaning; write it as a native marketer would.",
    "variants": "Write {count} distinct variants of this text for an A/B test: each with a different hook or "
    "angle, the same facts, offer and call to action.",
}


def rewrite_request(
    *, kind: str, context: Mapping[str, Any], job: Mapping[str, Any], json_schema: Mapping[str, Any], trace_id: str
) -> CompletionRequest:
    """The request of one improve-loop rewrite (deliverables.services.rewrite). `job` says what to do and
    carries the text; it also goes to the offline provider, which rewrites from it without a model."""
    spec = spec_for(kind)
    brief = {key: value for key, value in (context.get("brief") or {}).items() if value not in (None, "", [])}
    task = REWRITE_TASKS[job["action"]].format(**{"target_chars": None, "tone": None, "count": None, **job})
    lines = [
        f"Task: {task}",
        f"The text is {'a passage of ' if job.get('passage') else ''}a {spec.label} ({kind}).",
    ]
    if job.get("max_chars"):
        lines.append(f"Hard limit: the rewritten text must be at most {job['max_chars']} characters.")
    if job.get("passage"):
        lines.append("Rewrite only this passage; it goes back in place in the piece, so keep it fitting there.")
    if job.get("instructions"):
        lines.append(f"The marketer's instructions: {job['instructions']}")
    lines.append(f"Campaign brief (JSON):\n{json.dumps(brief, indent=2, default=str)}")
    if job.get("title") and not job.get("passage"):
        lines.append(f"Current title: {job['title']}")
    if job.get("hashtags"):
        lines.append("Current hashtags: " + " ".join(job["hashtags"]))
    lines.append(f"The text:\n<<<\n{job['text']}\n>>>")
    return CompletionRequest(
        system=f"{SYSTEM}\n\n{brand_instructions(context['brand'])}",
        messages=(Message("user", "\n\n".join(lines)),),
        use_case=f"{kind}:{job['action']}",
        task="rewrite",
        context={**context, "rewrite": dict(job)},
        json_schema=json_schema,
        max_tokens=settings.AICMO_LLM_MAX_TOKENS,
        trace_id=trace_id,
    )
