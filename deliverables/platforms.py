"""One registry of channels and their limits, used by the prompts and JSON schemas at generation and by
the quality checks on every revision."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    max_chars: int  # hard limit of a post's text (hashtags included)
    max_hashtags: int | None = None  # hard limit, where the platform enforces one
    recommended_hashtags: int = 5  # more than this is a warning
    color: str = "#64748b"  # calendar and preview accents


PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform("linkedin", "LinkedIn", 3000, recommended_hashtags=5, color="#0a66c2"),
        Platform("instagram", "Instagram", 2200, max_hashtags=30, recommended_hashtags=15, color="#d62976"),
        Platform("twitter", "X (Twitter)", 280, recommended_hashtags=3, color="#0f1419"),
        Platform("facebook", "Facebook", 63206, recommended_hashtags=5, color="#1877f2"),
        Platform("threads", "Threads", 500, recommended_hashtags=3, color="#333333"),
        Platform("tiktok", "TikTok", 2200, recommended_hashtags=6, color="#ff0050"),
    )
}
ALIASES = {"x": "twitter", "twitter/x": "twitter", "ig": "instagram", "fb": "facebook", "li": "linkedin"}
EMAIL_CHANNEL = "email"

EMAIL_SUBJECT_MAX = 78
AD_PRIMARY_TEXT_WORDS = (45, 80)
MIN_IMAGE_PROMPTS = 3


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
