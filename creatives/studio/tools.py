"""The assistant's tools: their specs (sent to every provider, which translates them into function tools or
tool use) and `tool_run`, which validates a call's arguments and runs the service behind it.

A tool never raises: its result, success or error, goes back to the model as JSON (so the model can tell the
marketer, or correct itself in the next round), and what it did goes to the page as an action."""

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aicmo.core.errors import ApplicationError
from aicmo.core.services import preference_set_theme
from aicmo.llm.base import IMAGE_SIZES, Completion, ToolCall, ToolSpec
from aicmo.llm.chain import ProviderChain

from ..models import StudioThread
from .concepts import ad_asset_save, ad_concept_from, ad_image_generate

logger = logging.getLogger(__name__)

THEMES = ("light", "dark")

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="save_ad_asset",
        description=(
            "Save a finished ad concept to the marketer's assets (as a draft for review). Call it right after "
            "presenting a concept. revise=true saves a new version of the asset saved last in this "
            "conversation (the marketer asked to change it); revise=false saves a new concept."
        ),
        parameters={
            "type": "object",
            "properties": {
                "product": {"type": "string", "description": "What the ad promotes."},
                "style": {"type": "string", "description": "The visual style agreed in the brief."},
                "tone": {"type": "string", "description": "The tone of voice agreed in the brief."},
                "pitch": {"type": "string", "description": "The one benefit or offer the ad lands."},
                "headline": {"type": "string", "description": "The headline, at most 120 characters."},
                "primary_text": {"type": "string", "description": "The body copy: 45 to 80 words."},
                "call_to_action": {"type": "string", "description": "A few words, e.g. 'Shop now'."},
                "image_prompts": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 3,
                    "maxItems": 6,
                    "description": "At least 3 detailed prompts: subject, setting, light, style.",
                },
                "revise": {
                    "type": "boolean",
                    "description": "true: new version of the current asset; false: a new concept.",
                },
            },
            "required": ["product", "headline", "primary_text", "call_to_action", "image_prompts", "revise"],
        },
    ),
    ToolSpec(
        name="generate_ad_image",
        description=(
            "Make an image for the asset saved last in this conversation and attach it. Only when the "
            "marketer asks for an image."
        ),
        parameters={
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "One of the concept's image prompts (or a refined one)."},
                "shape": {"type": "string", "enum": list(IMAGE_SIZES), "description": "square unless asked otherwise"},
            },
            "required": ["prompt", "shape"],
        },
    ),
    ToolSpec(
        name="switch_theme",
        description="Switch the dashboard between light and dark mode, when the marketer asks.",
        parameters={
            "type": "object",
            "properties": {"theme": {"type": "string", "enum": list(THEMES)}},
            "required": ["theme"],
        },
    ),
)


@dataclass
class ToolContext:
    """What a tool call runs with: the thread (kept up to date as concepts are saved), the chain (for images),
    and the completion that asked for it (its provider and model sign the revision)."""

    thread: StudioThread
    chain: ProviderChain
    trace_id: str
    completion: Completion


@dataclass(frozen=True)
class ToolOutcome:
    result: dict[str, Any]  # for the model
    action: dict[str, Any] | None = None  # for the page
    ok: bool = True

    @property
    def content(self) -> str:
        return json.dumps(self.result, ensure_ascii=False)


def tool_run(*, context: ToolContext, call: ToolCall) -> ToolOutcome:
    handler = _HANDLERS.get(call.name)
    if handler is None:
        return ToolOutcome({"error": f"There is no tool named {call.name!r}."}, ok=False)
    try:
        return handler(context, call.arguments)
    except ApplicationError as error:
        return ToolOutcome({"error": error.message, **({"details": error.details} if error.details else {})}, ok=False)
    except Exception:  # a bug in a tool must not lose the reply: the model hears of it and the log has it
        logger.exception("studio tool crashed", extra={"tool": call.name, "trace_id": context.trace_id})
        return ToolOutcome({"error": "Internal error while running the tool."}, ok=False)


def _save_ad_asset(context: ToolContext, arguments: Mapping[str, Any]) -> ToolOutcome:
    concept = ad_concept_from(arguments)
    completion = context.completion
    saved = ad_asset_save(
        thread=context.thread,
        concept=concept,
        revise=bool(arguments.get("revise")),
        provider=completion.provider,
        model=completion.model,
        trace_id=context.trace_id,
        tokens_used=completion.usage.total,
        cost_usd=completion.cost_usd,
        warnings=completion.warnings,
    )
    deliverable, revision = saved.deliverable, saved.revision
    quality = revision.quality or {}
    result = {
        "status": "saved",
        "asset_id": str(deliverable.pk),
        "version": revision.version,
        "created": saved.created,
        "headline": concept.headline,
        "quality_warnings": [issue["message"] for issue in quality.get("warnings", [])],
        "blocking_issues": [issue["message"] for issue in quality.get("blocking", [])],
    }
    action = {
        "type": "asset",
        "deliverable_id": str(deliverable.pk),
        "headline": concept.headline,
        "version": revision.version,
        "created": saved.created,
        "url": f"/deliverables/{deliverable.pk}/",
    }
    return ToolOutcome(result, action)


def _generate_ad_image(context: ToolContext, arguments: Mapping[str, Any]) -> ToolOutcome:
    made = ad_image_generate(
        thread=context.thread,
        prompt=str(arguments.get("prompt") or ""),
        shape=str(arguments.get("shape") or "square"),
        chain=context.chain,
        trace_id=context.trace_id,
    )
    asset = made.asset
    result = {
        "status": "created",
        "image_url": asset.url,
        "shape": made.shape,
        "size": asset.size,
        "asset_id": str(made.deliverable.pk),
        "headline": made.deliverable.title,
    }
    action = {
        "type": "image",
        "deliverable_id": str(made.deliverable.pk),
        "url": asset.url,
        "shape": made.shape,
        "size": asset.size,
        "prompt": asset.prompt,
    }
    return ToolOutcome(result, action)


def _switch_theme(context: ToolContext, arguments: Mapping[str, Any]) -> ToolOutcome:
    theme = str(arguments.get("theme") or "").strip().lower()
    if theme not in THEMES:
        raise ApplicationError("The theme must be light or dark.", details={"theme": list(THEMES)})
    preference_set_theme(user=context.thread.user, theme=theme)  # the dashboard renders it on every page
    return ToolOutcome({"status": "switched", "theme": theme}, {"type": "theme", "theme": theme})


_HANDLERS: dict[str, Callable[[ToolContext, Mapping[str, Any]], ToolOutcome]] = {
    "save_ad_asset": _save_ad_asset,
    "generate_ad_image": _generate_ad_image,
    "switch_theme": _switch_theme,
}
