"""The `offline` provider: deterministic, no network, no key. It writes usable, brief-specific drafts from
templates and draws real PNG images with Pillow, so the whole product works on a laptop with no account.
Every result says `provider: offline`."""

import hashlib
import io
import json
import textwrap
import time
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..base import Completion, CompletionRequest, ImageRequest, ImageResult, StreamEvent, Usage

MODEL = "offline-templates-v1"
IMAGE_MODEL = "offline-pillow-v1"


def _words(text: str) -> int:
    return len(text.split())


class OfflineProvider:
    name = "offline"
    model = MODEL
    image_model = IMAGE_MODEL

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.monotonic()
        writer = _post if request.task.endswith("_post") else _WRITERS.get(request.task)
        tool_calls: tuple = ()
        if request.task == "rewrite" and request.json_schema is not None:  # the improve loop
            from .offline_rewrite import rewrite

            data = rewrite(request.context)
            text = json.dumps(data, ensure_ascii=False)
        elif writer is not None and request.json_schema is not None:
            data = writer(_Brief(request.context))
            text = json.dumps(data, ensure_ascii=False)
        elif request.task == "studio":  # the creative studio's scripted assistant
            from .offline_studio import studio_turn

            data, (text, tool_calls) = None, studio_turn(request)
        else:
            data, text = None, _chat_reply(request)
        tokens_in = sum(_words(m.content) for m in request.messages) + _words(request.system)
        return Completion(
            text=text,
            provider=self.name,
            model=MODEL,
            usage=Usage(tokens_in, _words(text)),
            latency_ms=int((time.monotonic() - started) * 1000),
            cost_usd=Decimal("0"),
            data=data,
            tool_calls=tool_calls,
        )

    def stream(self, request: CompletionRequest) -> Iterator[StreamEvent]:
        completion = self.complete(request)
        words = completion.text.split(" ")
        for i, word in enumerate(words):
            yield StreamEvent(text=word if i == len(words) - 1 else word + " ")
        yield StreamEvent(completion=completion)

    def generate_image(self, request: ImageRequest) -> ImageResult:
        started = time.monotonic()
        png = draw_image(request.prompt, request.size, str(request.context.get("brand_name", "")))
        return ImageResult(
            png_bytes=png,
            provider=self.name,
            model=IMAGE_MODEL,
            size=request.size,
            latency_ms=int((time.monotonic() - started) * 1000),
            cost_usd=Decimal("0"),
        )


class _Brief:
    """Friendly access to the slot context with sensible words where the brief is silent."""

    def __init__(self, context: Mapping[str, Any]):
        self.context = context
        self.brand = context.get("brand") or {}
        self.brief = context.get("brief") or {}

    @property
    def brand_name(self) -> str:
        return self.brand.get("name") or "our brand"

    @property
    def colours(self) -> list[str]:
        return [c for c in (self.brand.get("primary_color"), self.brand.get("secondary_color")) if c]

    @property
    def campaign(self) -> str:
        return self.brief.get("campaign_name") or self.brief.get("campaign") or f"{self.product} launch"

    @property
    def product(self) -> str:
        return self.brief.get("product") or self.brief.get("campaign_name") or self.brand_name

    @property
    def audience(self) -> str:
        return self.brief.get("audience") or self.brand.get("audience") or "people who care about quality"

    @property
    def message(self) -> str:
        return (
            self.brief.get("key_message")
            or self.brief.get("pitch")
            or f"{self.brand_name} makes {self.product} worth choosing every day"
        )

    @property
    def objectives(self) -> list[str]:
        return list(self.brief.get("objectives") or ["Awareness", "Engagement"])

    @property
    def platforms(self) -> list[str]:
        return list(self.brief.get("platforms") or ["linkedin", "instagram"])

    @property
    def days(self) -> int:
        return int(self.brief.get("timeline_days") or 30)

    @property
    def budget(self) -> Decimal | None:
        value = self.brief.get("budget")
        return Decimal(str(value)) if value not in (None, "") else None

    @property
    def tone(self) -> str:
        return self.brief.get("tone") or self.brand.get("tone_of_voice") or "warm and confident"

    @property
    def start(self) -> date:
        raw = self.context.get("start_date")
        return date.fromisoformat(raw) if raw else date.today()

    @property
    def disclaimers(self) -> list[str]:
        return list(self.brand.get("required_disclaimers") or [])

    def with_disclaimers(self, text: str) -> str:
        return text + "".join(f"\n\n{d}" for d in self.disclaimers)

    @property
    def variant(self) -> int:
        return int(self.context.get("variant") or 1)

    @property
    def tag(self) -> str:
        return "#" + "".join(ch for ch in self.brand_name.title() if ch.isalnum())


def _campaign_brief(b: _Brief) -> dict:
    channels = "\n".join(f"- **{p.title()}**: {_CHANNEL_ROLE.get(p, 'reach and engagement')}" for p in b.platforms)
    kpis = "\n".join(f"- {o}: {_KPI.get(o.lower(), 'a clear, measured lift over the baseline')}" for o in b.objectives)
    split = _budget_split(b)
    phases = max(b.days // 3, 1)
    body = f"""## Objectives
{chr(10).join(f"- {o}" for o in b.objectives)}

## Audience
{b.audience}. They want proof, not promises, and they decide quickly when a message is specific.

## Positioning
For {b.audience}, {b.brand_name} is the choice that delivers on one promise: {b.message}.

## Channel plan
{channels}

## KPIs
{kpis}

## Budget split
{split}

## Timeline
- Days 1–{phases}: launch — announce {b.campaign} and set the message.
- Days {phases + 1}–{2 * phases}: proof — stories, reviews and behind-the-scenes content.
- Days {2 * phases + 1}–{b.days}: conversion — offers, reminders and retargeting."""
    return {"title": f"{b.campaign}: campaign brief for {b.brand_name}", "content_markdown": b.with_disclaimers(body)}


def _budget_split(b: _Brief) -> str:
    budget = b.budget
    shares = _shares(len(b.platforms) + 1)
    rows = ["| Channel | Share | Amount |", "|---|---|---|"]
    for name, share in zip([*(p.title() for p in b.platforms), "Creative production"], shares, strict=True):
        amount = f"${(budget * share / 100).quantize(Decimal('1')):,}" if budget is not None else "to be set"
        rows.append(f"| {name} | {share}% | {amount} |")
    return "\n".join(rows)


def _shares(n: int) -> list[int]:
    base = [100 // n] * n
    base[0] += 100 - sum(base)
    return base


def _messaging_framework(b: _Brief) -> dict:
    body = f"""## Core message
{b.message}.

## Value proposition
{b.brand_name} gives {b.audience} a reason to choose with confidence: quality you can see, told plainly.

## Message pillars
1. **Craft** — how {b.product} is made, and why that care shows. Proof: process photos, maker stories.
2. **Everyday value** — what changes for the customer from day one. Proof: reviews and before / after moments.
3. **Trust** — {b.brand_name} stands behind every promise. Proof: guarantees, transparent sourcing.

## Tone
Speak {b.tone}.
- Do: use concrete details, short sentences, one call to action.
- Don't: hype, jargon, or claims we cannot prove.

## Sample taglines
- "{b.campaign}: made to be noticed."
- "{b.brand_name}. Worth it, every time."
- "Find out what {b.product} can do for you." """
    return {"title": f"{b.campaign}: messaging framework", "content_markdown": b.with_disclaimers(body)}


def _content_calendar(b: _Brief) -> dict:
    entries = []
    step = 3  # about two posts a week per platform
    for offset in range(0, min(b.days, 90), step):
        for i, platform in enumerate(b.platforms):
            if platform == "email":
                continue
            day = b.start + timedelta(days=offset + i % step)
            theme = _THEMES[(offset // step + i) % len(_THEMES)]
            entries.append(
                {
                    "date": day.isoformat(),
                    "platform": platform,
                    "title": f"{theme.title()}: {b.campaign}"[:120],
                    "text": f"{b.brand_name} — {theme} for {b.campaign}. {b.message}.",
                }
            )
    if not entries:
        entries.append(
            {
                "date": b.start.isoformat(),
                "platform": b.platforms[0],
                "title": f"Launch: {b.campaign}",
                "text": f"{b.brand_name} launches {b.campaign}. {b.message}.",
            }
        )
    return {"title": f"{b.campaign}: content calendar", "entries": entries}


def _post(b: _Brief) -> dict:
    platform = b.context.get("platform") or "linkedin"
    limit = int(b.context.get("shorten_to") or _POST_LENGTH.get(platform, 600))
    hook = _HOOKS[(b.variant - 1) % len(_HOOKS)].format(brand=b.brand_name, campaign=b.campaign, product=b.product)
    text = b.with_disclaimers(f"{hook} {b.message}. Built for {b.audience}. Discover {b.campaign} today.")
    if len(text) > limit:
        text = textwrap.shorten(text, width=limit, placeholder="…")
    hashtags = [b.tag, "#" + "".join(ch for ch in b.campaign.title() if ch.isalnum())][:2]
    label = b.context.get("platform_label") or platform.title()
    return {"title": f"{label} post: {b.campaign}"[:120], "text": text, "hashtags": hashtags}


def _email(b: _Brief) -> dict:
    body = f"""Hello,

{b.message}. That is the heart of **{b.campaign}**, and we made it for {b.audience}.

- Made with care by {b.brand_name}
- Ready from day one
- Backed by people who answer when you write

[Discover {b.campaign}](#)

The {b.brand_name} team"""
    return {
        "subject": f"{b.campaign}: something new from {b.brand_name}"[:78],
        "preheader": f"{b.message}"[:140],
        "body_markdown": b.with_disclaimers(body),
    }


def _ad(b: _Brief) -> dict:
    style = b.brief.get("style") or "clean, modern"
    hook = ["Meet", "Discover", "Taste", "Try"][(b.variant - 1) % 4]
    primary = (
        f"{hook} {b.product} from {b.brand_name}. {b.message}. Made for {b.audience}, it turns an ordinary "
        f"moment into one worth sharing. Every detail is chosen with care, so what you get is simple, "
        f"honest and ready when you are. Join {b.campaign} today and see the difference for yourself."
    )
    return {
        "headline": f"{hook} {b.product}, by {b.brand_name}"[:120],
        "primary_text": primary,
        "call_to_action": "Shop now" if b.variant % 2 else "Learn more",
        "image_prompts": [
            f"{b.product} on a wooden table in soft morning light, {style} photography, "
            f"in the brand colours of {b.brand_name}" + (f" ({' and '.join(b.colours)})" if b.colours else ""),
            f"A person from {b.audience} enjoying {b.product}, candid lifestyle shot, shallow depth of field",
            f"Flat-lay of {b.product} with props that tell the {b.campaign} story, top-down, {style} style",
        ],
    }


def _chat_reply(request: CompletionRequest) -> str:
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    return f"(offline draft) Noted: {last[:200]}" if last else "(offline draft) Ready when you are."


_WRITERS = {
    "campaign_brief": _campaign_brief,
    "messaging_framework": _messaging_framework,
    "content_calendar": _content_calendar,
    "email_copy": _email,
    "ad_copy": _ad,
}
_CHANNEL_ROLE = {
    "linkedin": "thought leadership and B2B reach",
    "instagram": "visual storytelling and reels",
    "twitter": "fast conversation and news",
    "facebook": "community and retargeting",
    "threads": "casual conversation",
    "tiktok": "short video discovery",
    "email": "conversion and loyalty",
}
_KPI = {
    "awareness": "reach 250,000 people, frequency 3",
    "engagement": "engagement rate above 3.5%",
    "lead generation": "400 qualified leads at under $25 each",
    "sales": "a 15% lift in online sales",
    "conversions": "conversion rate above 2.5%",
    "traffic": "30,000 site visits",
}
_THEMES = ["launch teaser", "behind the scenes", "customer story", "how-to tip", "product close-up", "offer reminder"]
_HOOKS = ["{brand} presents {campaign}.", "New from {brand}: {product}.", "Ready for something better?"]
_POST_LENGTH = {"twitter": 270, "threads": 470}


# --- images ----------------------------------------------------------------------------------------------


def draw_image(prompt: str, size: str, brand_name: str = "") -> bytes:
    """A real PNG: a gradient in colours derived from the prompt, with the prompt written on it."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = (int(v) for v in size.split("x"))
    scale = 4  # draw small and scale up: fast, and the file stays small
    w, h = max(width // scale, 1), max(height // scale, 1)
    digest = hashlib.sha256(prompt.encode()).digest()
    top, bottom = digest[0:3], digest[3:6]
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    for y in range(h):
        t = y / max(h - 1, 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    font = ImageFont.load_default()
    lines = textwrap.wrap(prompt, width=max(w // 7, 10))[:8]
    y = h // 6
    if brand_name:
        draw.text((w // 12, y), brand_name.upper(), fill="white", font=font)
        y += 18
    for line in lines:
        draw.text((w // 12, y), line, fill="white", font=font)
        y += 14
    image = image.resize((width, height))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
