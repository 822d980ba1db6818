"""Prompts for generated deliverables. The brand kit goes into every system prompt."""

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from aicmo.llm.base import CompletionRequest, Message

from .kinds import spec_for


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
    if brand.get("offer_url"):
        lines.append(f"Calls to action send people to {brand['offer_url']} (use this link, never invent one).")
    if brand.get("website_url"):
        lines.append(f"The brand's website is {brand['website_url']}.")
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
    "placeholders such as [Insert …], TBD or Lorem ipsum, never invented statistics presented as facts. "
    "Answer only with JSON matching the given schema."
)


def deliverable_request(*, kind: str, context: Mapping[str, Any], trace_id: str) -> CompletionRequest:
    """The request for one deliverable slot. `context` is the run's snapshot plus the slot's own fields."""
    spec = spec_for(kind)
    brief = {key: value for key, value in context["brief"].items() if value not in (None, "", [])}
    user = (
        f"Task: {spec.instructions}\n\n"
        f"Campaign brief (JSON):\n{json.dumps(brief, indent=2, default=str)}\n\n"
        f"Start date: {context.get('start_date')}\n"
        + (f"Platform: {context['platform']}\n" if context.get("platform") else "")
        + (f"This is variant {context['variant']} of several: make it distinct.\n" if context.get("variant") else "")
    )
    return CompletionRequest(
        system=f"{SYSTEM}\n\n{brand_instructions(context['brand'])}",
        messages=(Message("user", user),),
        use_case=kind,
        task=kind,
        context=context,
        json_schema=spec.schema(context),
        max_tokens=settings.AICMO_LLM_MAX_TOKENS,
        trace_id=trace_id,
    )


def shorten_request(
    *, kind: str, context: Mapping[str, Any], text: str, limit: int, trace_id: str
) -> CompletionRequest:
    """One bounded rewrite for a draft over its platform's hard limit."""
    base = deliverable_request(kind=kind, context=context, trace_id=trace_id)
    target = int(limit * 0.95)
    ask = (
        f"This draft is {len(text)} characters, over the {limit}-character limit. Shorten it to at most "
        f"{target} characters, hashtags included, keeping the message and the call to action.\n\n{text}"
    )
    return CompletionRequest(
        system=base.system,
        messages=(*base.messages, Message("user", ask)),
        use_case=f"{kind}:shorten",
        task=kind,
        context={**context, "shorten_to": target},
        json_schema=base.json_schema,
        max_tokens=base.max_tokens,
        trace_id=trace_id,
    )
