"""The `offline` provider: deterministic, no network, no key. It writes usable, brief-specific drafts from
templates and draws real PNG images with Pillow, so the whole product works on a laptop with no account.
Every result says `provider: offline`.

Each platform's craft (length, line breaks, hashtags, hook, format, emoji) comes in the request's context from
the one platform registry (deliverables/platforms.py): this package imports no app. Its usage is zero tokens:
template words are not tokens, and must not be added to what real models used."""

import hashlib
import io
import json
import re
import textwrap
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from aicmo.llm.textfit import cut_at_boundary, fit_with_tail

from ..base import Completion, CompletionRequest, ImageRequest, ImageResult, StreamEvent, Usage

MODEL = "offline-templates-v1"
IMAGE_MODEL = "offline-pillow-v1"


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
        return Completion(
            text=text,
            provider=self.name,
            model=MODEL,
            usage=Usage(0, 0),
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
    """Friendly access to the slot context, with plain words where the brief is silent (never invented
    figures: a target the brief does not give is written as a target to set)."""

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
    def has_product(self) -> bool:
        return bool(self.brief.get("product"))

    @property
    def subject(self) -> str:
        """What a post is about: the product of a creatives brief, else the campaign."""
        return self.brief.get("product") or self.campaign

    @property
    def audience(self) -> str:
        return _lower_first(self.brief.get("audience") or self.brand.get("audience") or "people who care about quality")

    @property
    def message(self) -> str:
        """The key message as a sentence (one full stop, never two)."""
        raw = self.brief.get("key_message") or self.brief.get("pitch")
        if raw:
            return _sentence(raw)
        if self.has_product:
            return _sentence(f"{self.brand_name} makes {self.product} worth choosing")
        return _sentence(f"{self.campaign} brings {self.audience} the best of {self.brand_name}")

    @property
    def objectives(self) -> list[str]:
        return [str(o) for o in self.brief.get("objectives") or []] or ["Awareness", "Engagement"]

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
    def voice(self) -> "_Voice":
        return _voice_for(self.tone)

    @property
    def voice_line(self) -> str:
        """One of the brand's own lines, when the kit has some: the brand's voice in its own words."""
        examples = [str(e).strip() for e in self.brand.get("voice_examples") or [] if str(e).strip()]
        return _sentence(examples[(self.variant - 1) % len(examples)]) if examples else ""

    @property
    def link(self) -> str:
        """The offer URL, else the website, from the brand kit; "" when the kit has neither (then no link)."""
        for key in ("offer_url", "website_url"):
            url = str(self.brand.get(key) or "").strip()
            if url.startswith(("https://", "http://")):
                return url
        return ""

    @property
    def start(self) -> date:
        raw = self.context.get("start_date")
        return date.fromisoformat(raw) if raw else date.today()

    @property
    def disclaimers(self) -> list[str]:
        return [str(d).strip() for d in self.brand.get("required_disclaimers") or [] if str(d).strip()]

    def with_disclaimers(self, text: str) -> str:
        return text + "".join(f"\n\n{d}" for d in self.disclaimers if d not in text)

    @property
    def variant(self) -> int:
        return int(self.context.get("variant") or 1)

    @property
    def emoji_ok(self) -> bool:
        return bool(self.context.get("emoji_ok"))

    def platform_label(self, key: str) -> str:
        spec = (self.context.get("platforms_craft") or {}).get(key) or {}
        return spec.get("label") or _LABELS.get(key, key)

    def craft(self, key: str) -> dict:
        """The platform's craft as the registry put it into the context (defaults for a bare context)."""
        spec = (self.context.get("platforms_craft") or {}).get(key)
        if spec is None and key == self.context.get("platform"):
            spec = self.context.get("platform_craft")
        return {**_DEFAULT_CRAFT, "label": _LABELS.get(key, key), **(spec or {})}

    def hashtags(self, count: int, style: str) -> list[str]:
        """Hashtags from the brief's own words: campaign, product, audience, industry, brand."""
        sources = [self.campaign, self.subject, self.audience, self.brand.get("industry") or "", self.brand_name]
        sources += [w for w in re.findall(r"[^\W\d_]+", " ".join(sources[:4])) if len(w) > 3 and w.lower() not in _STOP]
        tags: dict[str, str] = {}
        for source in sources:
            tag = _hashtag(source, style)
            if 2 < len(tag) <= 30 and tag.lower() not in tags:
                tags[tag.lower()] = tag
        return list(tags.values())[:count]


@dataclass(frozen=True)
class _Voice:
    """Words of one family of brand voices, so a witty brand does not read like a formal one."""

    name: str
    openers: tuple[str, ...]
    calls: tuple[str, ...]
    questions: tuple[str, ...]
    emoji: tuple[str, ...]


_VOICES = (
    (
        re.compile(r"witt|playful|fun|cheek|quirk|humou?r|irreverent", re.I),
        _Voice(
            "witty",
            (
                "Plot twist: {brand} has news, and it is a good one.",
                "Spoiler alert: {subject} is here, and your routine will never be the same.",
                "Clear five minutes in your diary. {brand} is about to make them count.",
                "Confession: we cannot stop talking about {subject}.",
            ),
            ("Go on, treat yourself", "Your move", "Come and see what the fuss is about", "You know you want to"),
            ("Be honest: how do you take yours?", "Who are you bringing along?", "What would you try first?"),
            ("😄", "✨", "👉"),
        ),
    ),
    (
        re.compile(r"bold|confident|energetic|direct|daring|punchy", re.I),
        _Voice(
            "bold",
            (
                "{subject} is here. No half measures.",
                "Stop settling. Start with {subject}.",
                "This is {campaign}. Make room for it.",
                "{brand} did not come to play it safe.",
            ),
            ("Get yours today", "Don't wait", "Be first", "Make the switch now"),
            ("Ready to raise the bar?", "What are you waiting for?", "Are you in?"),
            ("🔥", "⚡", "👉"),
        ),
    ),
    (
        re.compile(r"expert|professional|authoritative|formal|precise|technical|serious|corporate", re.I),
        _Voice(
            "expert",
            (
                "What sets {subject} apart comes down to the details.",
                "A closer look at {subject}, and why it matters.",
                "{campaign}: what {audience} should know.",
                "Three things we learned building {subject}.",
            ),
            ("Learn more", "See the details", "Talk to our team", "Read the full story"),
            ("What matters most to you when you choose?", "Which detail would you ask us about?"),
            ("📌", "✅"),
        ),
    ),
    (
        re.compile(r".*", re.S),  # warm: the default
        _Voice(
            "warm",
            (
                "There is something good waiting for you at {brand}.",
                "We made {subject} with you in mind.",
                "Pull up a chair: {campaign} is here.",
                "Some things are worth slowing down for. {subject} is one of them.",
            ),
            ("Come and say hello", "We would love to see you", "Drop by and try it", "Find yours"),
            (
                "What would make your day a little better?",
                "Who would you share it with?",
                "What does a good day look like for you?",
            ),
            ("☕", "🤍", "✨"),
        ),
    ),
)


def _voice_for(tone: str) -> _Voice:
    return next(voice for pattern, voice in _VOICES if pattern.search(tone or ""))


def _campaign_brief(b: _Brief) -> dict:
    channels = "\n".join(
        f"- **{b.platform_label(p)}**: {_CHANNEL_ROLE.get(p, 'reach and engagement')}" for p in b.platforms
    )
    kpis = "\n".join(f"- **{o}**: {_kpi(o, b)}" for o in b.objectives)
    third = max(b.days // 3, 1)
    timeline = (
        f"- Days 1–{third}: launch — announce {b.campaign} and set the message.\n"
        f"- Days {third + 1}–{2 * third}: proof — stories, reviews and behind-the-scenes content.\n"
        f"- Days {2 * third + 1}–{b.days}: conversion — offers, reminders and retargeting."
        if b.days >= 3
        else f"- Days 1–{b.days}: launch and convert: announce {b.campaign} and ask for the action."
    )
    body = f"""## Objectives
{chr(10).join(f"- {o}" for o in b.objectives)}

## Audience
{_upper_first(b.audience)}. They want proof, not promises, and they decide quickly when a message is specific.

## Positioning
For {b.audience}, {b.brand_name} is the choice that delivers on one promise: {b.message}

## Channel plan
{channels}

## KPIs
Targets come from the brief; where it gives none, the line says which target to set before launch.

{kpis}

## Budget split
{_budget_split(b)}

## Timeline
{timeline}"""
    return {"title": f"{b.campaign}: campaign brief for {b.brand_name}", "content_markdown": b.with_disclaimers(body)}


def _kpi(objective: str, b: _Brief) -> str:
    key = objective.lower()
    metric = next((m for words, m in _KPI_METRICS if any(w in key for w in words)), "the measure of success")
    window = f"over the {b.days} days of the campaign"
    return f"track {metric} {window}; set the target against your current baseline before launch."


def _budget_split(b: _Brief) -> str:
    """Amounts only where the brief gives a budget, split evenly as a starting point (no invented shares)."""
    channels = [b.platform_label(p) for p in b.platforms] + ["Creative production"]
    if b.budget is None:
        rows = "\n".join(f"| {name} | to set |" for name in channels)
        intro = "No budget in the brief: set one, then share it across the channels."
        return f"{intro}\n\n| Channel | Amount |\n|---|---|\n{rows}"
    amounts = _even_split(b.budget, len(channels))
    rows = "\n".join(f"| {name} | ${amount:,} |" for name, amount in zip(channels, amounts, strict=True))
    return (
        f"The brief's budget of ${b.budget.quantize(Decimal('1')):,}, split evenly to start and rebalanced "
        f"towards what performs.\n\n| Channel | Amount |\n|---|---|\n{rows}"
    )


def _even_split(total: Decimal, n: int) -> list[int]:
    whole = int(total.quantize(Decimal("1")))
    amounts = [whole // n] * n
    amounts[0] += whole - sum(amounts)
    return amounts


def _messaging_framework(b: _Brief) -> dict:
    voice = b.voice
    taglines = [
        f"{b.campaign}: made to be noticed.",
        f"{b.brand_name}. Worth it, every time.",
        b.voice_line or f"{voice.calls[0]}: {b.subject} by {b.brand_name}.",
    ]
    own_lines = f", and the brand's own lines such as “{b.voice_line}”" if b.voice_line else ""
    body = f"""## Core message
{b.message}

## Value proposition
{b.brand_name} gives {b.audience} a reason to choose with confidence: quality you can see, told plainly.

## Message pillars
1. **Craft** — how {b.subject} is made, and why that care shows. Proof to gather: process photos, maker stories.
2. **Everyday value** — what changes for the customer from day one. Proof to gather: customer reviews and quotes.
3. **Trust** — {b.brand_name} stands behind every promise. Proof to gather: guarantees and sourcing you can show.

## Tone
Speak {b.tone}.
- Do: concrete details, short sentences, one call to action{own_lines}.
- Don't: hype, jargon, or claims we cannot prove.

## Sample taglines
{chr(10).join(f'- "{t}"' for t in taglines)}"""
    return {"title": f"{b.campaign}: messaging framework", "content_markdown": b.with_disclaimers(body)}


# --- content calendar: every entry its own words, in its platform's shape and within its limit ------------

_CALENDAR_IDEAS = (
    ("Launch teaser", "Something new is coming from {brand}: {campaign}."),
    ("Behind the scenes", "A look behind the counter: how the team at {brand} gets {subject} ready."),
    ("Customer story", "Why {audience} choose {brand}, in their own words."),
    ("How-to tip", "One small tip to get more out of {subject}."),
    ("Close-up", "The detail that makes {subject} what it is, up close."),
    ("Question of the week", "We asked ourselves what {audience} look for. Now we are asking you."),
    ("Meet the makers", "The people behind {subject}, and what they care about."),
    ("Myth buster", "A common belief about {subject}, and what we have found instead."),
    ("Offer reminder", "A reminder for {audience}: {campaign} is on now."),
    ("Weekend plan", "Plans for the weekend? {subject} fits right in."),
)


def _content_calendar(b: _Brief) -> dict:
    entries = []
    socials = [p for p in b.platforms if p != "email"] or ["linkedin"]
    step = 3  # about two posts a week per platform
    for n, offset in enumerate(range(0, min(b.days, 90), step)):
        for i, platform in enumerate(socials):
            day = b.start + timedelta(days=offset + i % step)
            title, idea = _CALENDAR_IDEAS[(n + i) % len(_CALENDAR_IDEAS)]
            entries.append(
                {
                    "date": day.isoformat(),
                    "platform": platform,
                    "title": f"{title}: {b.campaign}"[:120],
                    "text": _calendar_text(b, platform, idea, n, i),
                }
            )
    return {"title": f"{b.campaign}: content calendar", "entries": entries}


def _calendar_text(b: _Brief, platform: str, idea: str, n: int, i: int) -> str:
    craft = b.craft(platform)
    voice = b.voice
    words = _fill(idea, b)
    call = voice.calls[(n + 2 * i) % len(voice.calls)]
    question = voice.questions[(n + i) % len(voice.questions)]
    angle = (n // len(_CALENDAR_IDEAS)) % 3  # each idea comes back with another angle, never the same words
    support = (b.message, b.voice_line or f"Made for {b.audience}.", question)[angle]
    link = f": {b.link}" if b.link else "."
    if craft["format"] == "script":
        shots = ("three quick shots", "one slow close-up", "a before-and-after cut")[angle]
        body = f"Video idea: open on the hook “{_no_stop(words)}”, show it in {shots}, end on “{call}”."
    elif not craft["line_breaks"]:
        body = f"{words} {support} {call}{link}" if angle else f"{words} {call}{link}"
    elif platform == "threads" or platform == "facebook":
        body = f"{words} {(question, b.message + ' ' + question, support)[angle]}"
    else:
        body = f"{words} {support} {call}{link}"
    tags = b.hashtags(min(craft["hashtags"], 2), craft["hashtag_style"])
    tag_text = " ".join(tags[(n % len(tags)) :] + tags[: n % len(tags)]) if tags else ""
    room = int(craft["max_chars"] * 0.95) - (len(tag_text) + 1 if tag_text else 0)
    # One line: a calendar is a table (its Markdown cells hold no line breaks). Disclaimers inside the limit.
    text = fit_with_tail(body, limit=room, tail=b.disclaimers, separator=" ")
    return f"{text} {tag_text}" if tag_text else text


# --- social posts: one message, each platform's craft ----------------------------------------------------


def _post(b: _Brief) -> dict:
    key = b.context.get("platform") or "linkedin"
    craft = b.craft(key)
    if b.context.get("shorten_text"):  # the shortener's pass: cut the given draft, keep its words
        return _shortened(b, craft)
    voice = b.voice
    v = b.variant - 1
    hook = _fill(voice.openers[v % len(voice.openers)], b)
    call = voice.calls[v % len(voice.calls)]
    question = voice.questions[v % len(voice.questions)]
    emoji = list(voice.emoji) if b.emoji_ok else []
    budget_emoji = int(craft["emoji"]) if emoji else 0
    mark = (lambda n: f" {emoji[n % len(emoji)]}" if n < budget_emoji else "") if emoji else (lambda n: "")
    link = b.link
    tags = b.hashtags(int(craft["hashtags"]), craft["hashtag_style"])
    voice_line = f"\n\n{b.voice_line}" if b.voice_line else ""

    if key == "twitter":
        text = f"{hook} {b.message} {call}{': ' + link if link else '.'}{mark(0)}"
    elif key == "threads":
        text = f"{question}\n\n{b.message} {_upper_first(b.audience)} know what we mean.{mark(0)}"
    elif key == "instagram":
        text = (
            f"{hook}{mark(0)}\n\n{b.message}\n\nMade for {b.audience}.{voice_line}\n\n"
            f"{call}{mark(1)} {'— link in bio.' if link else 'and tell us below: ' + question}"
        )
    elif key == "facebook":
        text = f"{hook}{mark(0)}\n\n{b.message} {question}\n\n{call}{': ' + link if link else '.'}{mark(1)}"
    elif key == "tiktok":
        return _tiktok(b, craft, hook, call, tags, mark)
    else:  # linkedin and any platform without its own shape
        text = (
            f"{hook}\n\n{b.message} For {b.audience}, that is what {b.campaign} is about.{voice_line}\n\n"
            f"{call}{': ' + link if link else '.'}{mark(0)}"
        )
    text = fit_with_tail(text, limit=int(craft["max_chars"] * 0.95) - _tags_length(tags), tail=b.disclaimers)
    return {"title": f"{craft['label']} post: {b.campaign}"[:120], "text": text, "hashtags": tags}


def _tiktok(b: _Brief, craft: dict, hook: str, call: str, tags: list[str], mark) -> dict:
    script = [
        {"time": "0–3 s", "visual": f"Close-up of {b.subject}, quick cut", "voiceover": hook},
        {"time": "3–10 s", "visual": f"The team at {b.brand_name} at work", "voiceover": b.message},
        {
            "time": "10–20 s",
            "visual": f"A real customer ({b.audience}) trying it for the first time",
            "voiceover": f"Made for {b.audience}.",
        },
        {"time": "20–30 s", "visual": f"{b.brand_name} logo and the call to action on screen", "voiceover": f"{call}."},
    ]
    caption = f"{_no_stop(hook)}{mark(0)} {call}{' — link in bio' if b.link else ''}."
    caption = fit_with_tail(caption, limit=300, tail=b.disclaimers, separator=" ")
    return {
        "title": f"TikTok video: {b.campaign}"[:120],
        "hook": hook,
        "script": script,
        "text": caption,
        "hashtags": tags,
    }


def _shortened(b: _Brief, craft: dict) -> dict:
    tags = [str(t) for t in b.context.get("shorten_hashtags") or []][: int(craft["hashtags"]) or None]
    limit = int(b.context.get("shorten_to") or craft["max_chars"] * 0.95) - _tags_length(tags)
    text = fit_with_tail(str(b.context["shorten_text"]), limit=limit, tail=b.disclaimers)
    answer = {
        "title": str(b.context.get("shorten_title") or f"{craft['label']} post: {b.campaign}")[:120],
        "text": text,
        "hashtags": tags,
    }
    if craft["format"] == "script":
        answer.update(
            hook=_no_stop(text.split(".")[0]) or b.campaign, script=list(b.context.get("shorten_script") or [])
        )
        if not answer["script"]:
            answer["script"] = [{"time": "0–30 s", "visual": b.subject, "voiceover": text}]
    return answer


def _tags_length(tags: list[str]) -> int:
    return sum(len(t) + 1 for t in tags)


def _email(b: _Brief) -> dict:
    voice = b.voice
    call = voice.calls[(b.variant - 1) % len(voice.calls)]
    action = f"[{call}]({b.link})" if b.link else f"{call}: simply reply to this email and we will help."
    body = f"""Hello,

{_fill(voice.openers[(b.variant - 1) % len(voice.openers)], b)}

{b.message} That is the heart of **{b.campaign}**, and we made it for {b.audience}.

- Made with care by {b.brand_name}
- Ready from day one
- Backed by people who answer when you write

{action}{chr(10) * 2 + b.voice_line if b.voice_line else ""}

The {b.brand_name} team"""
    return {
        "subject": f"{b.campaign}: something new from {b.brand_name}"[:78],
        "preheader": cut_at_boundary(b.message, 140),
        "body_markdown": b.with_disclaimers(body),
    }


def _ad(b: _Brief) -> dict:
    style = b.brief.get("style") or "clean, modern"
    hook = ["Meet", "Discover", "Taste", "Try"][(b.variant - 1) % 4]
    voice = b.voice
    primary = (
        f"{hook} {b.product} from {b.brand_name}. {b.message} Made for {b.audience}, it turns an ordinary "
        f"moment into one worth sharing. Every detail is chosen with care, so what you get is simple, "
        f"honest and ready when you are. {voice.calls[(b.variant - 1) % len(voice.calls)]}, and see the "
        "difference for yourself."
    )
    return {
        "headline": f"{hook} {b.product}, by {b.brand_name}"[:120],
        "primary_text": b.with_disclaimers(primary),
        "call_to_action": "Shop now" if b.variant % 2 else "Learn more",
        "image_prompts": [
            f"{b.product} on a wooden table in soft morning light, in the brand colours of {b.brand_name}"
            + (f" ({' and '.join(b.colours)})" if b.colours else "")
            + ". "
            f"Visual style: {style}.",
            f"A person from {b.audience} enjoying {b.product}, candid lifestyle shot, shallow depth of field. "
            f"Visual style: {style}.",
            f"Flat-lay of {b.product} with props that tell the story of {b.campaign}, top-down. Visual style: {style}.",
        ],
    }


def _chat_reply(request: CompletionRequest) -> str:
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    return f"(offline draft) Noted: {last[:200]}" if last else "(offline draft) Ready when you are."


def _fill(template: str, b: _Brief) -> str:
    text = template.format(brand=b.brand_name, campaign=b.campaign, subject=b.subject, audience=b.audience)
    return _upper_first(text)


def _sentence(text: str) -> str:
    """One sentence-ending mark, however the brief ended it ('every two weeks..' → 'every two weeks.')."""
    text = re.sub(r"[.\s]+$", "", str(text).strip())
    return _upper_first(text) + ("" if text.endswith(("!", "?", "…")) else ".")


def _no_stop(text: str) -> str:
    return re.sub(r"[.!\s]+$", "", text.strip())


def _lower_first(text: str) -> str:
    """'Urban coffee lovers' → 'urban coffee lovers' mid-sentence; 'UX designers', 'Berlin cafés' stay."""
    text = str(text).strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower() and text.split()[0].lower() in _COMMON_STARTS:
        return text[0].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hashtag(words: str, style: str) -> str:
    parts = re.findall(r"[^\W_]+", words)
    if not parts:
        return ""
    body = "".join(p[:1].upper() + p[1:] for p in parts) if style == "camel" else "".join(parts).lower()
    return "#" + body


_WRITERS = {
    "campaign_brief": _campaign_brief,
    "messaging_framework": _messaging_framework,
    "content_calendar": _content_calendar,
    "email_copy": _email,
    "ad_copy": _ad,
}
_LABELS = {
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
    "twitter": "X (Twitter)",
    "facebook": "Facebook",
    "threads": "Threads",
    "tiktok": "TikTok",
    "email": "Email",
}
_DEFAULT_CRAFT = {
    "max_chars": 600,
    "hashtags": 3,
    "hashtag_style": "camel",
    "line_breaks": True,
    "format": "post",
    "emoji": 0,
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
_KPI_METRICS = (
    (("aware", "reach"), "reach and frequency among the audience"),
    (("engag",), "engagement rate per post"),
    (("lead",), "qualified leads and cost per lead"),
    (("sale", "revenue", "purchase"), "online sales against the period before the campaign"),
    (("conver",), "conversion rate"),
    (("traffic", "visit"), "site visits from the campaign's links"),
    (("loyal", "retent"), "repeat purchases"),
)
_STOP = {
    "people",
    "with",
    "that",
    "this",
    "from",
    "they",
    "their",
    "about",
    "quality",
    "care",
    "who",
    "lovers",
    "fans",
    "users",
    "customers",
    "buyers",
    "those",
    "anyone",
}
# First words that are ordinary nouns or adjectives, lowered mid-sentence (names and acronyms are left alone).
_COMMON_STARTS = {
    "urban",
    "young",
    "busy",
    "small",
    "local",
    "remote",
    "new",
    "first",
    "home",
    "coffee",
    "parents",
    "families",
    "students",
    "professionals",
    "people",
    "teams",
    "marketers",
    "developers",
    "founders",
    "owners",
    "health",
    "eco",
    "budget",
    "creative",
    "independent",
    "working",
    "office",
    "tech",
    "outdoor",
    "city",
    "modern",
}


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
