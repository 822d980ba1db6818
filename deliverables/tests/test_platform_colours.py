"""Every platform's preview link colour (hashtags, links) reads at WCAG AA (4.5:1) on the page surface of its
theme, for the platforms the browser's axe test does not show too (aicmo/core/tests/test_views.py checks that
/ui/platforms.css serves them)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from deliverables.platforms import PLATFORMS

APP_CSS = Path(settings.BASE_DIR) / "static" / "css" / "app.css"


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def surfaces() -> tuple[str, str]:
    """The preview frame's background, (light, dark), as app.css defines it."""
    match = re.search(r"--surface:\s*light-dark\((#[0-9a-fA-F]{6}),\s*(#[0-9a-fA-F]{6})\)", APP_CSS.read_text())
    assert match, "app.css no longer defines --surface as light-dark(#rrggbb, #rrggbb)"
    return match.group(1), match.group(2)


def test_contrast_matches_the_wcag_figures():
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast("#1877f2", "#ffffff"), 2) == 4.23  # the figure axe-core gave for Facebook's old colour


@pytest.mark.parametrize("key", sorted(PLATFORMS))
def test_platform_link_colours_meet_aa_on_their_theme(key):
    light_surface, dark_surface = surfaces()
    light, dark = PLATFORMS[key].link
    assert contrast(light, light_surface) >= 4.5, (key, light, round(contrast(light, light_surface), 2))
    assert contrast(dark, dark_surface) >= 4.5, (key, dark, round(contrast(dark, dark_surface), 2))
