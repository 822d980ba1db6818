"""The shortener: every piece within its platform's hard limit at first save, and the `shorten` the improve
loop calls.

Two stages, in order:
1. model passes (bounded, `MAX_MODEL_PASSES`): the draft goes back through the provider chain with the brand
   kit, asked for at most 95 % of the limit;
2. the offline cutter (`aicmo.llm.textfit`): whole sentences, else clauses, else words; never inside a word;
   required disclaimers kept word for word and counted inside the limit.

A draft that fits is never touched. Calendar entries are fitted by the cutter alone (one model pass per entry
would multiply the calls by the calendar's length)."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aicmo.llm.base import Completion
from aicmo.llm.exceptions import AllProvidersFailed
from aicmo.llm.textfit import cut_at_boundary, fit_with_tail

from ..kinds import Draft, spec_for
from ..platforms import PLATFORMS, Platform, platform_for_kind, post_length
from ..prompts import shorten_request
from ..provenance import OFFLINE

logger = logging.getLogger(__name__)

MAX_MODEL_PASSES = 2
TARGET_SHARE = 0.95  # what a shortening aims at: room left for an edit or a hashtag


@dataclass(frozen=True)
class FitResult:
    draft: Draft
    completions: tuple[Completion, ...] = ()  # the shortener's model calls (their tokens and cost count)
    cut: bool = False  # the offline cutter had the last word

    @property
    def model_calls(self) -> int:
        return len(self.completions)

    @property
    def report(self) -> dict[str, Any]:
        """What a deliverable's metadata keeps about its shortening."""
        return {"model_passes": self.model_calls, "cut_at_boundary": self.cut}


# --- pure helpers -----------------------------------------------------------------------------------------


def disclaimers_of(brand: Mapping[str, Any]) -> list[str]:
    return [str(d).strip() for d in brand.get("required_disclaimers") or [] if str(d).strip()]


def with_disclaimers(text: str, disclaimers: Sequence[str]) -> str:
    """`text` with each required disclaimer it lacks appended (word for word, once)."""
    missing = [d for d in disclaimers if _normal(d) not in _normal(text)]
    return text.rstrip() + "".join(f"\n\n{d}" for d in missing) if missing else text


def shorten_text(text: str, *, limit: int, disclaimers: Sequence[str] = ()) -> str:
    """The offline cutter for any text or passage: at most `limit` characters, cut at a sentence or clause
    boundary, disclaimers kept at the end. Text that fits comes back unchanged (disclaimers added)."""
    text = with_disclaimers(text, disclaimers)
    if len(text) <= limit:
        return text
    return (
        fit_with_tail(text, limit=limit, tail=[d for d in disclaimers if d])
        if disclaimers
        else cut_at_boundary(text, limit)
    )


def post_fits(draft: Draft, platform: Platform, limit: int | None = None) -> bool:
    return post_length(draft.content_markdown, draft.hashtags) <= (limit or platform.max_chars)


def cut_post(draft: Draft, *, platform: Platform, disclaimers: Sequence[str], limit: int | None = None) -> Draft:
    """The offline cutter for a post: hashtags trimmed to the platform's usual count first, then the text cut
    to 95 % of the limit (hashtags and disclaimers counted), at a boundary."""
    hard = limit or platform.max_chars
    if post_length(draft.content_markdown, draft.hashtags) <= hard:
        return draft
    target = int(hard * TARGET_SHARE)
    hashtags = list(draft.hashtags)[: max(platform.hashtags, 1)]
    while hashtags and post_length("", hashtags) > target // 3:  # hashtags never eat the post
        hashtags.pop()
    text = shorten_text(draft.content_markdown, limit=target - post_length("", hashtags), disclaimers=disclaimers)
    return replace(draft, content_markdown=text, hashtags=hashtags)


def fit_calendar(draft: Draft, *, context: Mapping[str, Any]) -> Draft:
    """Each calendar entry within its platform's limit with the required disclaimers; the table re-rendered."""
    entries = draft.structured.get("entries")
    if not entries:
        return draft
    disclaimers = disclaimers_of(context.get("brand") or {})
    fitted, changed = [], False
    for entry in entries:
        platform = PLATFORMS.get(str(entry.get("platform")))
        text = with_disclaimers(str(entry.get("text") or ""), disclaimers)
        if platform is not None and len(text) > platform.max_chars:
            text = shorten_text(text, limit=platform.target_chars, disclaimers=disclaimers)
        changed |= text != entry.get("text")
        fitted.append({**entry, "text": text})
    if not changed:
        return draft
    return spec_for("content_calendar").render({"title": draft.title, "entries": fitted}, context)


# --- the service ------------------------------------------------------------------------------------------


def draft_fit(
    *,
    kind: str,
    draft: Draft,
    context: Mapping[str, Any],
    chain=None,
    trace_id: str = "",
    max_model_passes: int = MAX_MODEL_PASSES,
) -> FitResult:
    """A freshly generated draft made ready for its first save: required disclaimers present (calendar
    entries included) and every piece within its platform's hard limit. With a `chain`, an over-long post
    first gets up to `max_model_passes` model passes; the offline cutter settles whatever is still over."""
    disclaimers = disclaimers_of(context.get("brand") or {})
    if kind == "content_calendar":
        return FitResult(fit_calendar(draft, context=context))
    draft = replace(draft, content_markdown=with_disclaimers(draft.content_markdown, disclaimers))
    platform = platform_for_kind(kind)
    if platform is None or post_fits(draft, platform):
        return FitResult(draft)
    return shorten_with_model(
        kind=kind, draft=draft, context=context, chain=chain, trace_id=trace_id, max_passes=max_model_passes
    )


def shorten_with_model(
    *,
    kind: str,
    draft: Draft,
    context: Mapping[str, Any],
    chain,
    trace_id: str = "",
    limit: int | None = None,
    max_passes: int = MAX_MODEL_PASSES,
) -> FitResult:
    """Shorten `draft` to `limit` characters (default: its platform's hard limit; for a kind without one, the
    caller's `limit` on its Markdown): model passes through `chain` aimed at 95 % of it, then the offline
    cutter if a pass still overshoots, fails, or there is no chain. The result always fits."""
    platform = platform_for_kind(kind)
    hard = limit or (platform.max_chars if platform else len(draft.content_markdown))
    disclaimers = disclaimers_of(context.get("brand") or {})
    completions: list[Completion] = []
    for attempt in range(1, max_passes + 1 if chain is not None else 1):
        if _fits(draft, hard):
            break
        try:
            completion = chain.complete(
                shorten_request(
                    kind=kind,
                    context=context,
                    text=draft.content_markdown,
                    hashtags=draft.hashtags,
                    limit=hard,
                    trace_id=trace_id,
                    title=draft.title,
                    structured=draft.structured,
                    attempt=attempt,
                )
            )
        except AllProvidersFailed as error:  # the first draft stands; the cutter fits it
            logger.warning("shortening pass failed", extra={"kind": kind, "error": str(error)[:200]})
            break
        if completion.provider == OFFLINE and platform is None:
            break  # the templates rewrite posts only: any other text is cut, not replaced by a fresh template
        completions.append(completion)
        shorter = spec_for(kind).render(completion.data, context)
        draft = replace(shorter, content_markdown=with_disclaimers(shorter.content_markdown, disclaimers))
    if _fits(draft, hard):
        return FitResult(draft, tuple(completions))
    if platform is not None:
        return FitResult(
            cut_post(draft, platform=platform, disclaimers=disclaimers, limit=hard), tuple(completions), cut=True
        )
    text = shorten_text(draft.content_markdown, limit=int(hard * TARGET_SHARE), disclaimers=disclaimers)
    return FitResult(replace(draft, content_markdown=text), tuple(completions), cut=True)


def _fits(draft: Draft, limit: int) -> bool:
    return post_length(draft.content_markdown, draft.hashtags) <= limit


def _normal(text: str) -> str:
    return " ".join(text.lower().split())
