"""One registry of channels: their hard limits and their craft (length aimed for, line breaks, hashtags, hooks,
formats, emoji). The prompts, the JSON schemas, the offline templates, the shortener, the quality checks and
the previews all read it, so a platform's conventions are written down once."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

HashtagStyle = Literal["camel", "lower"]
PostFormat = Literal["post", "script"]


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    max_chars: int  # hard limit of a post's text (hashtags included)
    max_hashtags: int | None = None  # hard limit, where the platform enforces one
    recommended_hashtags: int = 5  # more than this is a warning
    color: str = "#64748b"  # calendar and preview accents
    # Hashtags and links in the previews, (light theme, dark theme): the platform's own link colours where they
    # read at 4.5:1 or more on the page surface in that theme (WCAG AA; test_platform_link_colours checks it).
    link: tuple[str, str] = ("#4338ca", "#a5a1ff")
    # --- craft: how a good post reads here ---
    aim_chars: int = 600  # the length a good post aims for (well under the hard limit)
    hashtags: int = 3  # how many hashtags to give
    hashtag_style: HashtagStyle = "camel"  # #CoffeeLovers or #coffeelovers
    hashtags_inline: bool = False  # woven into the last line rather than a block of their own
    line_breaks: bool = True  # short paragraphs separated by blank lines
    hook: str = ""  # what the first line must do
    format: PostFormat = "post"  # "script": a short-video hook and script as well as the caption
    emoji: int = 0  # emoji a post may carry when the brand voice allows them
    conventions: str = ""  # the rest of the craft, for the prompt

    @property
    def target_chars(self) -> int:
        """What the shortener aims at: 95 % of the hard limit, so an edit or a hashtag still fits."""
        return int(self.max_chars * 0.95)

    def craft_instructions(self, *, emoji_ok: bool) -> str:
        """The platform's conventions, in the words the model is given."""
        style = "#CamelCase" if self.hashtag_style == "camel" else "#lowercase"
        lines = [
            f"Platform: {self.label}. Hard limit: {self.max_chars} characters, hashtags and disclaimers included; "
            f"aim for about {min(self.aim_chars, self.target_chars)} characters.",
            f"Opening: {self.hook}" if self.hook else "",
            "Use short paragraphs separated by blank lines." if self.line_breaks else "Write it as one paragraph.",
            f"Give {self.hashtags} hashtag{'s' if self.hashtags != 1 else ''} in {style} style, specific to the "
            "campaign and the audience (not just the brand name).",
            f"Use at most {self.emoji} emoji, only where the brand voice allows it."
            if emoji_ok and self.emoji
            else "Use no emoji.",
            self.conventions,
        ]
        return "\n".join(line for line in lines if line)


PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform(
            "linkedin",
            "LinkedIn",
            3000,
            recommended_hashtags=5,
            color="#0a66c2",
            link=("#0a66c2", "#71b7fb"),
            aim_chars=900,
            hashtags=3,
            hook="a first line that states a specific insight or tension the reader recognises (it shows above "
            "'…see more').",
            emoji=1,
            conventions="Professional and useful: the insight, why it matters, what the brand does about it, then "
            "one call to action. No clickbait.",
        ),
        Platform(
            "instagram",
            "Instagram",
            2200,
            max_hashtags=30,
            recommended_hashtags=15,
            color="#d62976",
            link=("#d62976", "#f472b6"),
            aim_chars=700,
            hashtags=8,
            hashtag_style="lower",
            hook="a sensory first line that makes people stop scrolling.",
            emoji=3,
            conventions="Caption for an image: describe the moment, then a call to action ('link in bio' when "
            "there is a link). Hashtags in a block after the caption.",
        ),
        Platform(
            "twitter",
            "X (Twitter)",
            280,
            recommended_hashtags=3,
            color="#0f1419",
            link=("#0f1419", "#4ea1f3"),
            aim_chars=220,
            hashtags=1,
            line_breaks=False,
            hashtags_inline=True,
            hook="lead with the punchline: one sharp sentence.",
            emoji=1,
            conventions="One tweet, not a thread: one idea, one call to action, at most one or two hashtags.",
        ),
        Platform(
            "facebook",
            "Facebook",
            63206,
            recommended_hashtags=5,
            color="#1877f2",
            link=("#0064d1", "#4599ff"),
            aim_chars=450,
            hashtags=2,
            hook="a friendly, conversational opener, as if to a neighbour.",
            emoji=2,
            conventions="Community tone: invite comments with a question; keep it short, most people read on a phone.",
        ),
        Platform(
            "threads",
            "Threads",
            500,
            recommended_hashtags=3,
            color="#333333",
            link=("#333333", "#4ea1f3"),
            aim_chars=320,
            hashtags=1,
            hashtag_style="lower",
            hashtags_inline=True,
            hook="an opinion or a question that starts a conversation.",
            emoji=1,
            conventions="Casual and personal, like a message to a friend; end with a question.",
        ),
        Platform(
            "tiktok",
            "TikTok",
            2200,
            recommended_hashtags=6,
            color="#ff0050",
            aim_chars=900,
            hashtags=4,
            hashtag_style="lower",
            line_breaks=False,
            hook="a spoken hook for the first three seconds that makes people stay.",
            format="script",
            emoji=2,
            conventions="Give the hook, a short video script (three to five beats with timings, what we see and "
            "what is said) and a one-line caption.",
        ),
    )
}
ALIASES = {"x": "twitter", "twitter/x": "twitter", "ig": "instagram", "fb": "facebook", "li": "linkedin"}
EMAIL_CHANNEL = "email"

EMAIL_SUBJECT_MAX = 78
AD_PRIMARY_TEXT_WORDS = (45, 80)
MIN_IMAGE_PROMPTS = 3

# Words in a brand's voice that say emoji are welcome, or that they are not.
_EMOJI_YES = re.compile(r"\b(playful|witty|fun|friendly|warm|cheerful|casual|upbeat|quirky|emoji)", re.I)
_EMOJI_NO = re.compile(r"\b(formal|serious|corporate|no emoji|sober|institutional|luxury)", re.I)


def normalize_channel(value: str) -> str | None:
    """'LinkedIn' → 'linkedin', 'X' → 'twitter', 'Email' → 'email'; None when unknown."""
    key = value.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in PLATFORMS or key == EMAIL_CHANNEL else None


def post_kind(platform: str) -> str:
    return f"{platform}_post"


def platform_for_kind(kind: str) -> Platform | None:
    return PLATFORMS.get(kind.removesuffix("_post")) if kind.endswith("_post") else None


def post_length(text: str, hashtags) -> int:
    """Characters a platform counts for a post: the text plus each hashtag and its separating space."""
    return len(text or "") + sum(len(tag) + 1 for tag in hashtags or [])


def emoji_allowed(brand: Mapping[str, Any]) -> bool:
    """Whether the brand's voice welcomes emoji: a playful or warm voice does, a formal one (or none) does not."""
    voice = " ".join([str(brand.get("tone_of_voice") or ""), *map(str, brand.get("voice_examples") or [])])
    return bool(_EMOJI_YES.search(voice)) and not _EMOJI_NO.search(voice)


def hashtags_in_style(tags: Sequence[str], platform: Platform) -> list[str]:
    """Hashtags with their '#', in the platform's case style, without duplicates (a model's CamelCase is kept
    where the platform uses it)."""
    seen: dict[str, str] = {}
    for tag in tags:
        body = "".join(re.findall(r"[^\W_]+|_", tag.lstrip("#")))
        if not body:
            continue
        styled = "#" + (body.lower() if platform.hashtag_style == "lower" else body[:1].upper() + body[1:])
        seen.setdefault(styled.lower(), styled)
    return list(seen.values())
