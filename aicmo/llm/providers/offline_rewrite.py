"""The offline provider's rewrites (the improve loop): deterministic text transforms that really do what was
asked, so the loop works with no model. Shorten cuts at sentence, then clause, then word boundaries (never
mid-word) and keeps the brand's required disclaimers; expand adds sentences drawn from the brief and the brand
kit; tone rewrites contractions, punctuation and hedges; translate substitutes a small glossary (es, fr, de);
regenerate and variants reword and change the hook.

The request's `context["rewrite"]` says what to do (see deliverables.prompts.rewrite_request): `action`,
`text` (the whole piece or the selected passage), `passage` (answer `{"passage"}` instead of a whole piece),
`max_chars` (hard cap of the answer's text), `target_chars` (for shorten), `tone`, `language`, `count`,
`title` and `hashtags` of the current revision."""

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import ErrorType, ProviderError

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")
_STRUCTURE = re.compile(r"^\s*(#{1,6}\s|\||[-*+]\s|\d{1,3}[.)]\s|>|---|\*\*[^*]+:\*\*)")


def rewrite(context: Mapping[str, Any]) -> dict[str, Any]:
    """The structured answer to a rewrite request (the schema the request carries)."""
    job = context["rewrite"]
    action, text = job["action"], job["text"]
    disclaimers = list((context.get("brand") or {}).get("required_disclaimers") or [])
    if action == "variants":  # each distinct from the original and from the others
        made: list[str] = []
        number = 1
        while len(made) < int(job["count"]) and number <= 4 * len(_HOOKS):
            candidate = _variant(text, context, number)
            if candidate != text and candidate not in made:
                made.append(candidate)
            number += 1
        return {"variants": [_whole(job, variant) for variant in made]}
    new_text = ACTIONS[action](text, context)
    cap = job.get("max_chars")
    if cap and len(new_text) > cap:
        new_text = shorten_text(new_text, cap, keep=disclaimers)
    if job.get("passage"):
        return {"passage": new_text}
    title = job.get("title") or ""
    if action == "translate":
        title = _translate(title, context)
    return _whole(job, new_text, title=title)


def _whole(job: Mapping[str, Any], text: str, *, title: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"title": (title if title is not None else job.get("title")) or "Untitled"}
    answer["content_markdown"] = text
    if job.get("with_hashtags"):
        answer["hashtags"] = list(job.get("hashtags") or [])
    return answer


# --- shorten ---------------------------------------------------------------------------------------------------


def shorten_text(text: str, limit: int, *, keep: list[str] | tuple[str, ...] = ()) -> str:
    """`text` in at most `limit` characters, cut at boundaries: whole sentences first (in order, the disclaimers
    in `keep` always), then clauses of the first sentence, then whole words with an ellipsis. Line breaks between
    kept paragraphs are kept. The one shortener of the offline provider: the integrator may swap in another
    cutter with this signature."""
    text = text.strip()
    if len(text) <= limit:
        return text
    kept_disclaimers = [d for d in keep if d and d in text]
    body = text
    for disclaimer in kept_disclaimers:
        body = body.replace(disclaimer, "")
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    tail = "".join(f"\n\n{d}" for d in kept_disclaimers)
    room = limit - len(tail)
    if room <= 0:
        return tail.strip()[:limit].rsplit(" ", 1)[0]
    pieces = _sentences(body)
    out = ""
    for separator, sentence in pieces:
        candidate = f"{out}{separator if out else ''}{sentence}"
        if len(candidate) > room:
            break
        out = candidate
    if not out:  # even the first sentence is too long: its clauses, then its words
        first = pieces[0][1] if pieces else body
        for clause in _CLAUSE_END.split(first):
            candidate = f"{out} {clause}".strip()
            if len(candidate) + 1 > room:
                break
            out = candidate
        out = out.rstrip(",;:—– ")
        if out:
            out += "."
        else:
            words = first[: max(room - 1, 0)].rsplit(" ", 1)[0].rstrip(",;:—– ")
            out = f"{words}…" if words else ""
    return (out + tail).strip()


def _sentences(text: str) -> list[tuple[str, str]]:
    """(separator before it, sentence) for each sentence, keeping paragraph breaks as separators."""
    pieces: list[tuple[str, str]] = []
    for p, paragraph in enumerate(re.split(r"\n\s*\n", text)):
        for s, sentence in enumerate(_SENTENCE_END.split(paragraph.strip())):
            if sentence:
                pieces.append(("\n\n" if p and not s else " ", sentence))
    return pieces


def _shorten(text: str, context: Mapping[str, Any]) -> str:
    job = context["rewrite"]
    disclaimers = list((context.get("brand") or {}).get("required_disclaimers") or [])
    target = int(job.get("target_chars") or len(text) * 0.7)
    if "\n" in text.strip() and not job.get("max_chars"):
        return _shorten_document(text, target, disclaimers)
    return shorten_text(text, max(target, 1), keep=disclaimers)


def _shorten_document(text: str, target: int, disclaimers: list[str]) -> str:
    """A Markdown document: each plain paragraph keeps its first sentence, lists keep three items, until it is
    within `target`; headings, tables and disclaimers stay."""
    lines = text.splitlines()
    out: list[str] = []
    items = 0
    for line in lines:
        stripped = line.strip()
        if re.match(r"^\s*([-*+]|\d{1,3}[.)])\s", line):
            items += 1
            if items > 3:
                continue
        else:
            items = 0 if stripped else items
        if stripped and not _STRUCTURE.match(line) and stripped not in disclaimers:
            first = _SENTENCE_END.split(stripped)[0]
            line = first
        out.append(line)
    shorter = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    if len(shorter) >= len(text.strip()) or len(shorter) > target * 1.5:
        return shorten_text(text, target, keep=disclaimers)
    return shorter


# --- expand ----------------------------------------------------------------------------------------------------


def _expand(text: str, context: Mapping[str, Any]) -> str:
    """Add sentences from the brief and the brand kit that the text does not say yet, before the disclaimers,
    while the answer stays within `max_chars`."""
    job = context["rewrite"]
    brand, brief = context.get("brand") or {}, context.get("brief") or {}
    disclaimers = [d for d in brand.get("required_disclaimers") or [] if d and d in text]
    body = text
    for disclaimer in disclaimers:
        body = body.replace(disclaimer, "")
    body = body.rstrip()
    name = brand.get("name") or "We"
    product = brief.get("product") or brief.get("campaign_name") or name
    candidates = [
        brief.get("key_message") and f"{_sentence(brief['key_message'])}",
        brief.get("pitch") and f"{_sentence(brief['pitch'])}",
        (brief.get("audience") or brand.get("audience"))
        and f"Made for {_clause(brief.get('audience') or brand['audience'])}.",
        *(f"{_sentence(line)}" for line in brand.get("voice_examples") or []),
        f"Every detail of {product} is chosen with care by {name}.",
        "It is ready when you are, and it is worth sharing.",
        f"Tell us what you think: {name} reads every reply.",
    ]
    cap = job.get("max_chars")
    tail = "".join(f"\n\n{d}" for d in disclaimers)
    goal = max(len(text) * 1.4, len(text) + 60)
    added = False
    for sentence in candidates:
        if not sentence or sentence.lower() in body.lower():
            continue
        joiner = "\n\n" if "\n" in body.strip() else " "
        candidate = f"{body}{joiner}{sentence}"
        if cap and len(candidate + tail) > cap:
            continue
        body, added = candidate, True
        if len(body + tail) >= goal:
            break
    if not added:
        raise ProviderError(
            "There is no room to expand it within the platform's limit: shorten it or amend it instead.",
            provider="offline",
            error_type=ErrorType.VALIDATION_ERROR,
            retryable=False,
        )
    return (body + tail).strip()


def _sentence(text: str) -> str:
    text = " ".join(str(text).split()).rstrip(" .")
    return f"{text[:1].upper()}{text[1:]}."


def _clause(text: str) -> str:
    text = " ".join(str(text).split()).rstrip(" .")
    return text[:1].lower() + text[1:] if text[:2].istitle() and not text[:2].isupper() else text


# --- tone ------------------------------------------------------------------------------------------------------

_CONTRACTIONS = {
    "do not": "don't",
    "does not": "doesn't",
    "cannot": "can't",
    "will not": "won't",
    "it is": "it's",
    "we are": "we're",
    "you are": "you're",
    "they are": "they're",
    "you will": "you'll",
    "we will": "we'll",
    "that is": "that's",
    "is not": "isn't",
    "are not": "aren't",
    "let us": "let's",
}
_HEDGES = {"might ": "will ", "may ": "will ", "perhaps ": "", "could ": "can ", "a little ": "", "quite ": ""}
_TONES: dict[str, tuple[str, ...]] = {
    "formal": ("formal", "professional", "corporate", "serious", "authoritative"),
    "friendly": ("friendly", "casual", "warm", "conversational", "relaxed", "informal"),
    "playful": ("playful", "witty", "fun", "humorous", "cheeky", "light"),
    "bold": ("bold", "confident", "urgent", "direct", "energetic", "punchy"),
}
_OPENERS = {
    "formal": "We are pleased to share this with you. ",
    "friendly": "Hi there! ",
    "playful": "Guess what? ",
    "bold": "Here it is. ",
}


def tone_family(tone: str) -> str:
    """The family of tone the offline provider knows that is nearest to `tone` (friendly when none matches)."""
    words = set(re.findall(r"\w+", tone.lower()))
    for family, names in _TONES.items():
        if words & set(names):
            return family
    return "friendly"


def _tone(text: str, context: Mapping[str, Any]) -> str:
    family = tone_family(context["rewrite"].get("tone") or "")
    new = text
    if family == "formal":
        for long, short in _CONTRACTIONS.items():
            new = _replace_words(new, short, long)
        new = new.replace("!", ".")
        new = _replace_words(new, "Hi", "Hello")
        new = _replace_words(new, "Hey", "Hello")
    else:
        for long, short in _CONTRACTIONS.items():
            new = _replace_words(new, long, short)
    if family == "bold":
        for hedge, firm in _HEDGES.items():
            new = _replace_words(new, hedge.strip(), firm.strip()) if firm else re.sub(rf"\b{hedge}", "", new)
        new = re.sub(r"\.(\s*)$", r"!\1", new.rstrip()) if not new.rstrip().endswith("!") else new
    if family == "playful":
        first_end = re.search(r"\.(\s)", new)
        if first_end:
            new = new[: first_end.start()] + "!" + new[first_end.start() + 1 :]
    if new == text:
        new = _OPENERS[family] + text
    return new


def _replace_words(text: str, old: str, new: str) -> str:
    """Replace whole words, keeping a capital first letter."""

    def swap(match: re.Match) -> str:
        found = match.group(0)
        return new[:1].upper() + new[1:] if found[:1].isupper() else new

    return re.sub(rf"(?<![\w']){re.escape(old)}(?![\w'])", swap, text, flags=re.I)


# --- translate -------------------------------------------------------------------------------------------------

LANGUAGE_NAMES = {"es": "Spanish", "fr": "French", "de": "German"}
_GLOSSARY: dict[str, dict[str, str]] = {
    "es": {
        "the": "el", "and": "y", "with": "con", "for": "para", "our": "nuestro", "your": "tu", "you": "tú",
        "new": "nuevo", "now": "ahora", "today": "hoy", "discover": "descubre", "try": "prueba", "coffee": "café",
        "every": "cada", "day": "día", "morning": "mañana", "people": "personas", "who": "que", "care": "cuidan",
        "about": "de", "quality": "calidad", "from": "de", "made": "hecho", "is": "es", "are": "son", "more": "más",
        "better": "mejor", "ready": "listo", "something": "algo", "presents": "presenta", "built": "creado",
        "launch": "lanzamiento", "join": "únete", "us": "nosotros", "home": "casa", "at": "en", "of": "de",
        "to": "a", "in": "en", "a": "un", "this": "este", "we": "nosotros", "learn": "aprende",
        "hello": "hola", "team": "equipo", "fresh": "fresco", "roasted": "tostado", "week": "semana",
    },
    "fr": {
        "the": "le", "and": "et", "with": "avec", "for": "pour", "our": "notre", "your": "votre", "you": "vous",
        "new": "nouveau", "now": "maintenant", "today": "aujourd'hui", "discover": "découvrez", "try": "essayez",
        "coffee": "café", "every": "chaque", "day": "jour", "morning": "matin", "people": "personnes",
        "who": "qui", "care": "tiennent", "about": "à", "quality": "qualité", "from": "de", "made": "fait",
        "is": "est", "are": "sont", "more": "plus", "better": "meilleur", "ready": "prêt", "something": "quelque chose",
        "presents": "présente", "built": "conçu", "launch": "lancement", "join": "rejoignez", "us": "nous",
        "home": "maison", "at": "à", "of": "de", "to": "à", "in": "en", "a": "un", "this": "ce", "we": "nous",
        "learn": "découvrez", "hello": "bonjour", "team": "équipe", "fresh": "frais",
        "roasted": "torréfié", "week": "semaine",
    },
    "de": {
        "the": "die", "and": "und", "with": "mit", "for": "für", "our": "unser", "your": "dein", "you": "du",
        "new": "neu", "now": "jetzt", "today": "heute", "discover": "entdecke", "try": "probiere", "coffee": "Kaffee",
        "every": "jeden", "day": "Tag", "morning": "Morgen", "people": "Menschen", "who": "die", "care": "achten",
        "about": "auf", "quality": "Qualität", "from": "von", "made": "gemacht", "is": "ist", "are": "sind",
        "more": "mehr", "better": "besser", "ready": "bereit", "something": "etwas", "presents": "präsentiert",
        "built": "gemacht", "launch": "Start", "join": "mach mit", "us": "uns", "home": "Zuhause", "at": "bei",
        "of": "von", "to": "zu", "in": "in", "a": "ein", "this": "dies", "we": "wir",
        "learn": "erfahre", "hello": "hallo", "team": "Team", "fresh": "frisch", "roasted": "geröstet",
        "week": "Woche",
    },
}  # fmt: skip


def _translate(text: str, context: Mapping[str, Any]) -> str:
    language = context["rewrite"].get("language") or ""
    glossary = _GLOSSARY.get(language)
    if glossary is None:
        raise ProviderError(
            f"The offline provider translates only into {', '.join(LANGUAGE_NAMES.values())} (word by word); "
            "configure a model provider for other languages.",
            provider="offline",
            error_type=ErrorType.VALIDATION_ERROR,
            retryable=False,
        )
    disclaimers = [d for d in (context.get("brand") or {}).get("required_disclaimers") or [] if d and d in text]
    protected = {f"\x00{i}\x00": d for i, d in enumerate(disclaimers)}  # required wording stays word for word
    for token, disclaimer in protected.items():
        text = text.replace(disclaimer, token)

    def swap(match: re.Match) -> str:
        word = match.group(0)
        if word.startswith("#"):
            return word
        found = glossary.get(word.lower())
        if found is None:
            return word
        return found[:1].upper() + found[1:] if word[:1].isupper() else found

    text = re.sub(r"#?[A-Za-z']+", swap, text)
    for token, disclaimer in protected.items():
        text = text.replace(token, disclaimer)
    return text


# --- regenerate and variants -----------------------------------------------------------------------------------

_SYNONYMS = {
    "discover": "explore",
    "explore": "discover",
    "today": "this week",
    "new": "fresh",
    "great": "excellent",
    "best": "finest",
    "made": "crafted",
    "enjoy": "savour",
    "built": "designed",
    "presents": "introduces",
    "introduces": "presents",
    "better": "finer",
    "ready": "set",
    "people": "folks",
    "quality": "craft",
    "every": "each",
}
_HOOKS = (
    "New from {brand}:",
    "Ready for something better?",
    "Here's the news from {brand}:",
    "Have you met {product} yet?",
    "Don't miss this one:",
    "A small change, a better day:",
)


def _regenerate(text: str, context: Mapping[str, Any]) -> str:
    disclaimers = [d for d in (context.get("brand") or {}).get("required_disclaimers") or [] if d and d in text]
    protected = {f"\x00{i}\x00": d for i, d in enumerate(disclaimers)}
    for token, disclaimer in protected.items():
        text = text.replace(disclaimer, token)
    new = re.sub(
        r"[A-Za-z]+",
        lambda m: (
            _keep_case(m.group(0), _SYNONYMS.get(m.group(0).lower())) if m.group(0).lower() in _SYNONYMS else m.group(0)
        ),
        text,
    )
    if new == text:
        new = f"{_hook(context, 1)} {text}"
    for token, disclaimer in protected.items():
        new = new.replace(token, disclaimer)
    return new


def _variant(text: str, context: Mapping[str, Any], number: int) -> str:
    """Variant `number`: a different hook in front of the reworded text, within the cap."""
    body = _regenerate(text, context) if number % 2 == 0 else text
    for template in _HOOKS:  # a hook an earlier variant put there is replaced, not stacked
        hook = _format_hook(template, context)
        if body.startswith(hook + " "):
            body = body[len(hook) + 1 :]
    new = f"{_hook(context, number)} {body}"
    cap = context["rewrite"].get("max_chars")
    if cap and len(new) > cap:
        keep = list((context.get("brand") or {}).get("required_disclaimers") or [])
        hook = _hook(context, number)
        new = f"{hook} {shorten_text(body, cap - len(hook) - 1, keep=keep)}"
    return new


def _hook(context: Mapping[str, Any], number: int) -> str:
    return _format_hook(_HOOKS[(number - 1) % len(_HOOKS)], context)


def _format_hook(template: str, context: Mapping[str, Any]) -> str:
    brand = (context.get("brand") or {}).get("name") or "us"
    brief = context.get("brief") or {}
    return template.format(brand=brand, product=brief.get("product") or brief.get("campaign_name") or brand)


def _keep_case(word: str, new: str) -> str:
    return new[:1].upper() + new[1:] if word[:1].isupper() else new


ACTIONS: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "regenerate": _regenerate,
    "shorten": _shorten,
    "expand": _expand,
    "tone": _tone,
    "translate": _translate,
}
