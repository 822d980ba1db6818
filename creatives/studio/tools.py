"""The assistant's tools: their specs (sent to every provider, which translates them into function tools or
tool use) and `tool_run`, which validates a server tool's arguments and runs the service behind it.

A tool never raises: its result, success or error, goes back to the model as JSON (so the model can tell the
marketer, or correct itself in the next round), and what it did goes to the marketer as a ChatKit widget.
`switch_theme` is the seed's client tool: assistant.py hands it to the front end."""

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chatkit.types import WidgetItem
from chatkit.widgets import DynamicWidgetRoot
from django.utils import timezone

from aicmo.core.errors import ApplicationError
from aicmo.llm.base import IMAGE_SIZES, Completion, ToolCall, ToolSpec
from aicmo.llm.chain import ProviderChain
from aicmo.llm.exceptions import ImageRetryable

from ..models import StudioThread
from .concepts import ad_asset_save, ad_concept_from, ad_image_generate

logger = logging.getLogger(__name__)

THEMES = ("light", "dark")

CLIENT_TOOLS = ("switch_theme",)  # run by the front end: the turn ends with a pending client tool call
IMAGE_TOOL = "generate_ad_image"  # run by a task of its own (assistant.py), retried by Celery

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="save_ad_asset",
        description=(
            "Save a finished ad concept to the marketer's assets (as a draft for review). Call it right after "
            "presenting a concept. It updates the asset saved last in this conversation (a new version), or "
            "makes the first one; new_concept=true saves a different idea as a new asset instead."
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
                "images": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "URLs of images made in this conversation to attach (optional).",
                },
                "new_concept": {
                    "type": "boolean",
                    "description": "true: a different idea, saved as a new asset; false (default): update "
                    "the current one.",
                },
            },
            "required": [
                "product",
                "style",
                "tone",
                "pitch",
                "headline",
                "primary_text",
                "call_to_action",
                "image_prompts",
            ],
        },
    ),
    ToolSpec(
        name="generate_ad_image",
        description=(
            "Make an image and attach it to the asset saved last in this conversation (before any is saved, it "
            "is kept and attached to the first one). Only when the marketer asks for an image."
        ),
        parameters={
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "One of the concept's image prompts (or a refined one)."},
                "size": {
                    "type": "string",
                    "enum": [*IMAGE_SIZES.values(), *IMAGE_SIZES],
                    "description": "1024x1024 (square) unless asked otherwise: 1024x1536 portrait, "
                    "1536x1024 landscape.",
                },
            },
            "required": ["prompt"],
        },
    ),
    ToolSpec(
        name="switch_theme",
        description="Switch the page between light and dark mode, when the marketer asks.",
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
    image_attempt: int = 1  # which attempt of the image task this is
    image_retry_later: bool = False  # a transient image failure raises ImageRetryable (Celery retries the task)


@dataclass(frozen=True)
class ToolOutcome:
    result: dict[str, Any]  # for the model
    widget: Callable[..., WidgetItem] | None = None  # what the marketer sees: widget(thread_id=, item_id=)
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
    except ImageRetryable:  # the image task's to retry (Celery's backoff), not an answer for the model yet
        raise
    except ApplicationError as error:
        return ToolOutcome({"error": error.message, **({"details": error.details} if error.details else {})}, ok=False)
    except Exception:  # a bug in a tool must not lose the reply: the model hears of it and the log has it
        logger.exception("studio tool crashed", extra={"tool": call.name, "trace_id": context.trace_id})
        return ToolOutcome({"error": "Internal error while running the tool."}, ok=False)


def card(children: list[dict[str, Any]]) -> Callable[..., WidgetItem]:
    """A ChatKit Card widget item (built from its JSON: the library deprecates its named widget classes)."""

    def make(*, thread_id: str, item_id: str) -> WidgetItem:
        root = DynamicWidgetRoot.model_validate({"type": "Card", "children": children})
        return WidgetItem(id=item_id, thread_id=thread_id, created_at=timezone.now(), widget=root)

    return make


def _save_ad_asset(context: ToolContext, arguments: Mapping[str, Any]) -> ToolOutcome:
    concept = ad_concept_from(arguments)
    completion = context.completion
    saved = ad_asset_save(
        thread=context.thread,
        concept=concept,
        revise=not bool(arguments.get("new_concept")),
        provider=completion.provider,
        model=completion.model,
        trace_id=context.trace_id,
        tokens_used=completion.usage.total,
        cost_usd=completion.cost_usd,
        warnings=completion.warnings,
        images=[str(i) for i in arguments.get("images") or [] if isinstance(i, str)],
    )
    deliverable, revision = saved.deliverable, saved.revision
    quality = revision.quality or {}
    result = {
        "status": "saved",
        "asset_id": str(deliverable.pk),
        "version": revision.version,
        "created": saved.created,
        "headline": concept.headline,
        "image_count": saved.image_count,
        "quality_warnings": [issue["message"] for issue in quality.get("warnings", [])],
        "blocking_issues": [issue["message"] for issue in quality.get("blocking", [])],
    }
    label = "Saved to your assets" if saved.created else f"Saved version {revision.version}"
    widget = card(
        [
            {"type": "Caption", "value": f"{label} · draft for review"},
            {"type": "Title", "value": concept.headline, "size": "sm"},
            {"type": "Text", "value": concept.primary_text, "size": "sm"},
            {"type": "Caption", "value": f"Call to action: {concept.call_to_action}"},
            {
                "type": "Button",
                "label": "Open the asset",
                "onClickAction": {"type": "open_url", "payload": {"url": f"/deliverables/{deliverable.pk}/"}},
            },
        ]
    )
    return ToolOutcome(result, widget)


def _generate_ad_image(context: ToolContext, arguments: Mapping[str, Any]) -> ToolOutcome:
    made = ad_image_generate(
        thread=context.thread,
        prompt=str(arguments.get("prompt") or ""),
        shape=str(arguments.get("size") or arguments.get("shape") or "square"),
        chain=context.chain,
        trace_id=context.trace_id,
        attempt=context.image_attempt,
        retry_later=context.image_retry_later,
    )
    asset = made.asset
    result = {
        "status": "created",
        "image_url": asset.url,
        "shape": made.shape,
        "size": asset.size,
        "image_available": True,
        "asset_id": str(made.deliverable.pk) if made.deliverable else None,
        "pending": made.deliverable is None,
        "headline": made.deliverable.title if made.deliverable else "",
    }
    where = f"Attached to “{made.deliverable.title}”" if made.deliverable else "Kept for the next concept you save"
    widget = card(
        [
            {"type": "Image", "src": asset.url, "alt": asset.prompt[:140], "fit": "contain"},
            {"type": "Caption", "value": f"{made.shape.capitalize()} · {asset.size} · {where}"},
        ]
    )
    return ToolOutcome(result, widget)


_HANDLERS: dict[str, Callable[[ToolContext, Mapping[str, Any]], ToolOutcome]] = {
    "save_ad_asset": _save_ad_asset,
    IMAGE_TOOL: _generate_ad_image,
}
