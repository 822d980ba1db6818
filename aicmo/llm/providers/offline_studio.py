"""The `offline` provider's studio assistant: a deterministic script over the conversation, so the creative
studio works with no key and tests can walk it exactly.

It does what the real assistant is told to do: it stays on marketing (and declines anything else), asks what to
promote, then the style, tone and pitch, one question at a time; summarises the brief and waits for a "yes";
then writes a concept (headline, 45–80 words of primary text, a call to action, three image prompts) and saves
it with the `save_ad_asset` tool. Afterwards it revises the headline or call to action, writes another concept,
makes images (only when asked) and switches the dashboard theme, each through its tool.

State is read from the conversation itself (its own questions and summary are recognisable) plus what the
studio passes in `request.context`: the confirmed brief, the current asset and how many concepts exist, so the
script keeps working when old messages have left the model's window.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..base import IMAGE_SIZES, CompletionRequest, Message, ToolCall

IMAGE_SIZE_OF = IMAGE_SIZES  # shape name -> "WxH", as generate_ad_image's `size` takes it

FIELDS = ("product", "style", "tone", "pitch")
QUESTIONS = {
    "product": "What would you like to promote? Tell me about the product or service.",
    "style": "What visual style should the ad have — for example minimal, bold, cozy or premium?",
    "tone": "Which tone of voice should it speak in — friendly, playful, professional or luxurious?",
    "pitch": "What is the pitch: the one benefit or offer the ad must get across?",
}
SUMMARY_HEADING = "Here is the brief so far:"
CONFIRM = "Shall I write the concept? Reply **yes**, or tell me what to change."
MENU = (
    "I can change the headline or the call to action, write another concept, or make an image of it "
    "(square, portrait or landscape)."
)
DECLINE = "Sorry, I can only help with marketing: ad concepts, copy and images."

_OFF_TOPIC = re.compile(
    r"\b(weather|forecast|recipe|cook(ing)?|python|javascript|java|sql|code|coding|program(ming)?|debug|homework|"
    r"math|equation|calculus|capital of|joke|poem|lyrics|horoscope|stock price|bitcoin|crypto|medical|diagnos\w*|"
    r"symptom\w*|lawyer|legal advice|lawsuit|translate|football|soccer|election|president|movie|trivia|"
    r"history of|who won)\b",
    re.I,
)
_MARKETING = re.compile(
    r"\b(ad|ads|advert\w*|campaign|market\w*|promot\w*|brand|slogan|headline|copy|"
    r"concept|launch|sell|product|service)\b",
    re.I,
)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|howdy|yo)\b[\s!.,]*\w{0,12}[\s!.]*$", re.I
)
_YES = re.compile(
    r"^\s*(y|yes|yep|yeah|sure|ok|okay|go|go ahead|do it|please do|sounds good|looks good|perfect|"
    r"confirmed?|correct|great|let'?s go)\b",
    re.I,
)
_INTRO = re.compile(
    r"\b(?:promote|advertise|an? ads? (?:for|about)|ads? (?:for|about)|campaign (?:for|about)|"
    r"concept (?:for|about))\s+(?:our |my |the |a |an )?(?P<product>[^.!?\n]{2,80})",
    re.I,
)
_ATTACHED_ONLY = re.compile(r"^(\[attached: [^\]]*\]\s*)+$")  # how the studio words a message of images only
_THEME = re.compile(r"\b(dark|light)\s*(mode|theme)\b|\b(theme|mode)\b.*\b(dark|light)\b", re.I)
_IMAGE = re.compile(r"\b(image|images|picture|pictures|photo|photos|visual|visuals|illustration|render)\b", re.I)
_HEADLINE = re.compile(r"\b(headline|title)\b", re.I)
_CTA = re.compile(r"\b(call to action|cta|button)\b", re.I)
_CHANGE = re.compile(
    r"\b(change|new|another|different|other|rewrite|redo|improve|better|shorter|alternative|"
    r"try again)\b",
    re.I,
)
_NEW_CONCEPT = re.compile(r"\b(new|another|different|second|fresh|other)\b.*\b(concept|ad|version|idea|take)\b", re.I)
_SAVE = re.compile(r"^\s*(please\s+)?(save|keep|store)\b|\bsave (it|this|that|the (concept|ad))\b", re.I)
_LABELLED = re.compile(
    r"\b(?P<field>product|style|tone|pitch)\b\s*(?:is|should be|:|=|-|—)\s*(?P<value>.+?)"
    r"(?=(?:[,;.]|\band\b)?\s*\b(?:product|style|tone|pitch)\b\s*(?:is|should be|:|=|-|—)|[;\n]|$)",
    re.I,
)
_NATURAL = {
    "style": re.compile(
        r"\b(?:an? |in an? )?(?P<value>[\w-]+(?: (?:and|&) [\w-]+)?) (?:visual )?(?:style|look)\b", re.I
    ),
    "tone": re.compile(r"\b(?:an? |in an? )?(?P<value>[\w-]+(?: (?:and|&) [\w-]+)?) tone\b", re.I),
    "pitch": re.compile(r"\b(?:the )?pitch(?: is|:)?\s+(?P<value>[^.;\n]{3,200})", re.I),
}
_NOT_A_VALUE = {"a", "an", "the", "visual", "with", "of", "its", "our", "my"}
_FIELD_CHANGE = re.compile(
    r"\b(?P<field>product|style|tone|pitch)\b(?:\s+(?:should\s+be|to|is|:|=))\s*(?P<value>.+)", re.I
)


def studio_turn(request: CompletionRequest) -> tuple[str, tuple[ToolCall, ...]]:
    """The assistant's next turn: its text and the tool calls it makes. Images the marketer just attached
    (`context["attached_now"]`) are acknowledged first: the newest is the product image reference."""
    text, calls = _turn(request)
    attached = request.context.get("attached_now") or []
    if attached and request.messages and request.messages[-1].role == "user":
        names = ", ".join(f"“{image['name']}”" for image in attached)
        noun = "image" if len(attached) == 1 else "images"
        text = f"Thanks for the {noun} {names}: I'll use it as the product image reference. {text}"
    return text, calls


def _turn(request: CompletionRequest) -> tuple[str, tuple[ToolCall, ...]]:
    context = request.context
    brand = context.get("brand") or {}
    asset = context.get("asset") or None
    messages = request.messages
    if messages and messages[-1].role == "tool":
        brief, _ = _read_conversation(messages, dict(context.get("brief") or {}))
        return _after_tools(messages, asset, _next_prompt(brief, None, asset)), ()
    text = messages[-1].content.strip() if messages else ""
    brief, asked = _read_conversation(messages[:-1], dict(context.get("brief") or {}))

    if _ATTACHED_ONLY.match(text):  # an image sent without words: acknowledged (studio_turn), not filed
        return _next_prompt(brief, asked, asset), ()
    if _THEME.search(text):
        theme = "dark" if re.search(r"\bdark\b", text, re.I) else "light"
        # The next question comes along, so the conversation picks up where the theme change interrupted it.
        text = f"Switching the page to {theme} mode. {_next_prompt(brief, asked, asset)}"
        return text, (_call(request, "switch_theme", {"theme": theme}),)
    if _OFF_TOPIC.search(text) and not _MARKETING.search(text):
        return f"{DECLINE} {_next_prompt(brief, asked, asset)}", ()

    # Off-script requests are understood wherever they come, never filed as the next brief field.
    if _IMAGE.search(text) and _asks_for_image(text):
        return _image(request, text, brief, asset)
    if _SAVE.search(text):
        return _save(request, brief, brand, asset, context)
    found = brief_from_message(text)
    if len(found) >= 2 or (found and asked not in FIELDS):  # a brief in one message (or part of one)
        brief.update(found)
        missing = next((name for name in FIELDS if not brief.get(name)), None)
        if missing is not None:
            return f"Got it. {QUESTIONS[missing]}", ()
        return _summary(brief), ()

    if asset:
        if _CHANGE.search(text) and (_HEADLINE.search(text) or _CTA.search(text)):
            return _revise(request, asset, brief, brand, headline=bool(_HEADLINE.search(text)))
        if _NEW_CONCEPT.search(text) and _complete(brief):
            variant = int(context.get("concept_count") or 1) + 1
            return _concept(
                request,
                brief,
                brand,
                variant,
                intro="Here is another concept.",
                avoid=str(asset.get("headline") or ""),
                new=True,
            )

    field_change = _FIELD_CHANGE.search(text)
    if asked in FIELDS and _is_answer(text):
        brief[asked] = _clean(text, asked)
    elif asked == "confirm" and _YES.match(text):
        return _concept(
            request, brief, brand, int(context.get("concept_count") or 0) + 1, intro="Here is your concept."
        )
    elif field_change and (asked == "confirm" or not asset):
        brief[field_change["field"].lower()] = _clean(field_change["value"], field_change["field"].lower())
    elif not brief.get("product") and (intro := _INTRO.search(text)):
        brief["product"] = _clean(intro["product"], "product")

    if asset and _complete(brief) and asked != "confirm" and not field_change:
        return f"{MENU} What would you like next?", ()
    missing = next((name for name in FIELDS if not brief.get(name)), None)
    if missing is not None:
        if _GREETING.match(text) or not messages[:-1]:
            name = brand.get("name") or "your brand"
            return f"Hi! I'm your ad-concept assistant for {name}. {QUESTIONS[missing]}", ()
        thanks = "Got it." if missing != "product" else "Let's start with the product."
        return f"{thanks} {QUESTIONS[missing]}", ()
    return _summary(brief), ()


# --- off-script requests -----------------------------------------------------------------------------------


def _asks_for_image(text: str) -> bool:
    """ "Make an image", "can I see a picture of it", "generate a landscape visual": a request, not a style
    answer that mentions visuals ("bold visuals")."""
    return bool(
        re.search(r"\b(make|create|generate|draw|render|show|give|want|need|see|add|produce|design)\b", text, re.I)
        or re.match(r"^\s*(an? )?(image|picture|photo|visual|illustration)\b", text, re.I)
    )


def _image(
    request: CompletionRequest, text: str, brief: Mapping[str, str], asset: Mapping[str, Any] | None
) -> tuple[str, tuple[ToolCall, ...]]:
    shape = _shape(text)
    if asset:
        prompts = list(asset.get("image_prompts") or []) or [asset.get("headline", "")]
        prompt = prompts[_ordinal(text) % len(prompts)]
        intro = f"Making a {shape} image from this prompt: “{prompt}”."
    else:
        subject = re.sub(
            r"^.*?\b(?:image|picture|photo|visual|illustration)s?\b(?:\s+(?:of|for|showing|with))?\s*",
            "",
            text,
            flags=re.I,
        ).strip(" .!?")
        subject = subject or brief.get("product") or "the product"
        style = brief.get("style")
        styling = f", {style} styling" if style else ""
        prompt = f"{_capitalise(_shorten(subject, 20))}{styling}, soft natural light, clean background"
        reference = request.context.get("reference_image") or {}
        if reference.get("name"):
            prompt += f", the product as in the attached photo “{reference['name']}”"
        intro = f"Making a {shape} image: “{prompt}”. I'll attach it to the concept when we save one."
    return intro, (_call(request, "generate_ad_image", {"prompt": prompt, "size": IMAGE_SIZE_OF[shape]}),)


def _save(
    request: CompletionRequest,
    brief: dict[str, str],
    brand: Mapping[str, Any],
    asset: Mapping[str, Any] | None,
    context: Mapping[str, Any],
) -> tuple[str, tuple[ToolCall, ...]]:
    if asset:
        fields = {name: asset.get(name) for name in ("headline", "primary_text", "call_to_action", "image_prompts")}
        arguments = {**{k: brief.get(k, "") for k in FIELDS}, **fields}
        return (
            f"Saving “{asset.get('headline')}” again as the current version.",
            (_call(request, "save_ad_asset", arguments),),
        )
    missing = next((name for name in FIELDS if not brief.get(name)), None)
    if missing is not None:
        return f"There is nothing to save yet: I need a little more first. {QUESTIONS[missing]}", ()
    return _concept(request, brief, brand, int(context.get("concept_count") or 0) + 1, intro="Here is your concept.")


def brief_from_message(text: str) -> dict[str, str]:
    """The brief fields a message states outright: "product: …, style: …" or "a bold style, a playful tone,
    pitch: …" (a whole brief in one message, or part of one)."""
    found: dict[str, str] = {}
    for match in _LABELLED.finditer(text):
        value = _clean(match["value"], match["field"].lower())
        if value:
            found.setdefault(match["field"].lower(), value)
    for name, pattern in _NATURAL.items():
        if name in found:
            continue
        match = pattern.search(text)
        if match and match["value"].lower() not in _NOT_A_VALUE:
            found[name] = _clean(match["value"], name)
    if "product" not in found and found and (intro := _INTRO.search(text)):
        product = re.split(r"\s*(?:,|;| with | in an? | and the | pitch\b)", intro["product"], maxsplit=1)[0]
        if product:
            found["product"] = _clean(product, "product")
    return found


# --- reading the conversation ------------------------------------------------------------------------------


def _read_conversation(messages: Sequence[Message], brief: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The brief as the conversation has built it, and what the last assistant turn asked for: a field name,
    "confirm" (after a summary), or None."""
    asked: str | None = None
    for message in messages:
        if message.role == "assistant":
            if message.tool_calls:
                asked = None
                for call in message.tool_calls:
                    if call.name == "save_ad_asset":
                        brief.update({k: str(call.arguments[k]) for k in FIELDS if call.arguments.get(k)})
            if not message.content:
                continue
            if SUMMARY_HEADING in message.content:
                brief.update(_parse_summary(message.content))
                asked = "confirm"
            elif CONFIRM in message.content:  # asked again after an off-script turn
                asked = "confirm"
            else:
                asked = next((name for name, question in QUESTIONS.items() if question in message.content), None)
        elif message.role == "user":
            text = message.content.strip()
            stated = brief_from_message(text) if _is_answer(text) else {}
            if len(stated) >= 2 or (stated and asked not in FIELDS):
                brief.update(stated)
            elif asked in FIELDS and _is_answer(text):
                brief[asked] = _clean(text, asked)
            elif not brief.get("product") and (intro := _INTRO.search(text)):
                brief["product"] = _clean(intro["product"], "product")
    return brief, asked


def _parse_summary(text: str) -> dict[str, str]:
    found = {}
    for name in FIELDS:
        match = re.search(rf"^- \*\*{name.title()}:\*\* (.+)$", text, re.M)
        if match:
            found[name] = match.group(1).strip()
    return found


def _is_answer(text: str) -> bool:
    """Whether a message can answer the question asked: not a greeting, not off topic, and not an off-script
    request (a theme change, an image, "save it"), which is acted on instead of filed as a brief field."""
    return (
        bool(text)
        and not _GREETING.match(text)
        and not (_OFF_TOPIC.search(text) and not _MARKETING.search(text))
        and not _THEME.search(text)
        and not (_IMAGE.search(text) and _asks_for_image(text))
        and not _SAVE.search(text)
        and not _ATTACHED_ONLY.match(text)
    )


def _clean(text: str, field: str = "") -> str:
    text = " ".join(text.split()).strip(" .!")
    if field == "product":  # "Our cold brew" → "cold brew": the copy names it, not the marketer's pronoun
        text = re.sub(r"^(?:it'?s |it is |we sell |we make )?(?:our|my|the|a|an)\s+", "", text, flags=re.I) or text
    return text[:200]


def _complete(brief: Mapping[str, str]) -> bool:
    return all(brief.get(name) for name in FIELDS)


def _next_prompt(brief: Mapping[str, str], asked: str | None, asset: Mapping[str, Any] | None) -> str:
    if asked in FIELDS:
        return QUESTIONS[asked]
    if asked == "confirm":
        return CONFIRM
    if asset:
        return MENU
    missing = next((name for name in FIELDS if not brief.get(name)), None)
    return QUESTIONS[missing] if missing else CONFIRM


def _summary(brief: Mapping[str, str]) -> str:
    lines = "\n".join(f"- **{name.title()}:** {brief[name]}" for name in FIELDS)
    return f"{SUMMARY_HEADING}\n\n{lines}\n\n{CONFIRM}"


# --- writing ----------------------------------------------------------------------------------------------


def write_concept(brief: Mapping[str, str], brand: Mapping[str, Any], variant: int = 1) -> dict[str, Any]:
    """A finished, brief-specific ad: headline, 45–80 words of primary text (brand disclaimers included),
    a call to action and three image prompts."""
    product, style, tone, pitch = (brief.get(name, "") for name in FIELDS)
    brand_name = brand.get("name") or "our brand"
    audience = _lower_first(_shorten(brand.get("audience") or "people who care about quality", 12))
    disclaimers = [d for d in brand.get("required_disclaimers") or [] if d]
    hook = ["Meet", "Discover", "Say hello to", "Try", "Choose"][(variant - 1) % 5]
    sentences = [
        f"{hook} {_shorten(product, 10)} from {brand_name}.",
        _sentence(_shorten(pitch, 22)),
        f"Made for {audience}, it pairs a {_shorten(style, 6).lower()} look with a {_shorten(tone, 6).lower()} voice.",
    ]
    fillers = [
        "Every detail is chosen with care, so what you get is simple, honest and ready when you are.",
        "It fits into your day without fuss and gives you a reason to smile every time you reach for it.",
        "Once you have tried it, the old way will feel like a compromise you no longer need to make.",
        "See the difference for yourself today.",
    ]
    sentences = [s for s in sentences if s]
    ending = [_sentence(d) for d in disclaimers]
    words = sum(len(s.split()) for s in (*sentences, *ending))
    for filler in fillers:
        if words >= 45:
            break
        if words + len(filler.split()) <= 80:
            sentences.append(filler)
            words += len(filler.split())
    primary = " ".join([*sentences, *ending])
    return {
        "headline": headline_for(brief, brand, variant),
        "primary_text": primary,
        "call_to_action": CTAS[(variant - 1) % len(CTAS)],
        "image_prompts": [
            f"{_capitalise(_shorten(product, 10))} as the hero of the frame, {_shorten(style, 6).lower()} styling, "
            "soft natural light, clean background with room for a headline",
            f"A person from {audience} enjoying {_shorten(product, 10)}, candid lifestyle photo, "
            f"{_shorten(tone, 6).lower()} mood, shallow depth of field",
            f"Close-up detail that shows “{_shorten(pitch, 10)}”, {_shorten(style, 6).lower()} art direction in the "
            f"colours of {brand_name}, editorial composition",
        ],
    }


CTAS = ["Shop now", "Learn more", "Try it today", "Get started", "Order now"]


def headline_for(brief: Mapping[str, str], brand: Mapping[str, Any], variant: int) -> str:
    product = _shorten(brief.get("product", ""), 8)
    pitch = _shorten(brief.get("pitch", ""), 7)
    options = [
        f"{_capitalise(product)}: {pitch}",
        f"{_capitalise(product)}, made for your day",
        f"Why everyone is talking about {product}",
        f"{_capitalise(pitch)} — with {product}",
        f"{brand.get('name') or 'We'} brings you {product}",
    ]
    return options[(variant - 1) % len(options)][:120]


def _revise(
    request: CompletionRequest,
    asset: Mapping[str, Any],
    brief: Mapping[str, str],
    brand: Mapping[str, Any],
    *,
    headline: bool,
) -> tuple[str, tuple[ToolCall, ...]]:
    fields = {name: asset.get(name) for name in ("headline", "primary_text", "call_to_action", "image_prompts")}
    if headline:
        current = fields["headline"]
        options = [headline_for(brief, brand, n) for n in range(1, 6)]
        start = options.index(current) + 1 if current in options else 1
        fields["headline"] = next(o for o in options[start:] + options[:start] if o != current)
        intro = f"New headline: **{fields['headline']}**"
    else:
        current = fields["call_to_action"]
        start = CTAS.index(current) + 1 if current in CTAS else 0
        fields["call_to_action"] = next(c for c in CTAS[start:] + CTAS[:start] if c != current)
        intro = f"New call to action: **{fields['call_to_action']}**"
    arguments = {**{k: brief.get(k, "") for k in FIELDS}, **fields}
    return f"{intro}. Saving it as a new version of the current asset.", (_call(request, "save_ad_asset", arguments),)


def _concept(
    request: CompletionRequest,
    brief: Mapping[str, str],
    brand: Mapping[str, Any],
    variant: int,
    *,
    intro: str,
    avoid: str = "",
    new: bool = False,
) -> tuple[str, tuple[ToolCall, ...]]:
    ad = write_concept(brief, brand, variant)
    if ad["headline"] == avoid:  # another concept must not look like the one on screen
        ad["headline"] = headline_for(brief, brand, variant + 1)
    prompts = "\n".join(f"{i}. {p}" for i, p in enumerate(ad["image_prompts"], 1))
    text = (
        f"{intro}\n\n**Headline:** {ad['headline']}\n\n**Primary text:** {ad['primary_text']}\n\n"
        f"**Call to action:** {ad['call_to_action']}\n\n**Image prompts:**\n{prompts}\n\nSaving it to your "
        "assets now."
    )
    arguments = {**{k: brief.get(k, "") for k in FIELDS}, **ad, "new_concept": new}
    return text, (_call(request, "save_ad_asset", arguments),)


def _after_tools(messages: Sequence[Message], asset: Mapping[str, Any] | None, next_prompt: str = "") -> str:
    """What to say once the tools of this turn have answered."""
    results: list[tuple[str, dict[str, Any]]] = []
    names: dict[str, str] = {}
    for message in messages:
        for call in message.tool_calls:
            names[call.id] = call.name
    for message in reversed(messages):
        if message.role != "tool":
            break
        try:
            payload = json.loads(message.content)
        except ValueError:
            payload = {"error": message.content}
        results.insert(0, (names.get(message.tool_call_id, ""), payload if isinstance(payload, dict) else {}))
    lines = []
    for name, result in results:
        if result.get("error"):
            what = {
                "save_ad_asset": "save the concept",
                "generate_ad_image": "make the image",
                "switch_theme": "switch the theme",
            }.get(name, "do that")
            lines.append(f"I could not {what}: {result['error']}")
        elif name == "save_ad_asset":
            version = result.get("version", 1)
            saved = (
                f"Saved a new version (v{version}) of “{result.get('headline')}”"
                if version > 1
                else f"Saved “{result.get('headline')}” to your assets"
            )
            lines.append(f"{saved} as a draft, ready for review. {MENU}")
        elif name == "generate_ad_image":
            where = (
                f"I'll attach it to the concept you save next. {next_prompt}".strip()
                if result.get("pending")
                else f"It is attached to “{result.get('headline') or (asset or {}).get('headline', 'the asset')}”."
            )
            lines.append(f"Here is your {result.get('shape', 'square')} image ({result.get('size')}). {where}")
        elif name == "switch_theme":
            lines.append(f"Done: the dashboard is now in {result.get('theme')} mode.")
    return " ".join(lines) or "Done."


# --- small helpers ------------------------------------------------------------------------------------------


def _call(request: CompletionRequest, name: str, arguments: dict[str, Any]) -> ToolCall:
    # Deterministic, and unique within a conversation: a digest of the turn that asked for it.
    turn = json.dumps([len(request.messages), name, [m.content for m in request.messages[-4:]]])
    return ToolCall(id=f"offline_{hashlib.sha256(turn.encode()).hexdigest()[:16]}", name=name, arguments=arguments)


def _shape(text: str) -> str:
    if re.search(r"\b(portrait|vertical|story|stories|tall|reel)\b", text, re.I):
        return "portrait"
    if re.search(r"\b(landscape|horizontal|wide|banner|cover)\b", text, re.I):
        return "landscape"
    return "square"


def _ordinal(text: str) -> int:
    match = re.search(r"\b(first|second|third|1st|2nd|3rd|prompt\s*([123]))\b", text, re.I)
    if not match:
        return 0
    word = match.group(1).lower()
    return {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}.get(word, int(match.group(2) or 1) - 1)


def _shorten(text: str, words: int) -> str:
    parts = " ".join(str(text).split()).strip(" .!").split(" ")
    return " ".join(parts[:words])


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _lower_first(text: str) -> str:
    """ "Urban professionals" → "urban professionals", but "NYC commuters" stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
