"""The PDF report looked at: its first two pages rendered to PNG with poppler's pdftoppm (installed by
bin/ensure-chromium with the browser tests' chromium), kept in test-output/screenshots/, and checked by the
colours where the design puts them: the cover in the brand's primary colour above its secondary-colour rule
with the summary on white below, the contents page on white under the brand-coloured band, a footer rule."""

import shutil
import subprocess

import pytest
from django.conf import settings
from PIL import Image

from aicmo.testing.browser import SCREENSHOTS
from deliverables.services import run_export

from .review_helpers import generate_campaign

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not shutil.which("pdftoppm") and not settings.CI, reason="pdftoppm (poppler-utils) is not installed"
    ),
]

PRIMARY, SECONDARY = (0x5B, 0x2C, 0x1A), (0xE0, 0xA0, 0x60)


def close(pixel, colour, tolerance=12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def test_the_first_two_pages_look_as_designed(marketer, run_tasks_inline, tmp_path):
    run = generate_campaign(marketer, run_tasks_inline)
    run.brand.primary_color, run.brand.secondary_color = "#5b2c1a", "#e0a060"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(run_export(run=run, fmt="pdf", approved_only=False, actor=marketer).content)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SCREENSHOTS / "pdf-report"
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "2", str(pdf), str(prefix)], check=True)
    cover, contents = (Image.open(f"{prefix}-{n}.png").convert("RGB") for n in (1, 2))

    width, height = cover.size
    assert close(cover.getpixel((width // 2, int(height * 0.05))), PRIMARY)  # the cover's colour field
    assert close(cover.getpixel((width - 5, int(height * 0.54))), PRIMARY)
    assert close(cover.getpixel((width - 5, int(height * 0.555))), SECONDARY)  # the rule under it
    assert close(cover.getpixel((width - 5, int(height * 0.75))), (255, 255, 255))  # the summary on white
    assert close(contents.getpixel((width // 2, 3)), PRIMARY)  # the band on top of a body page
    assert close(contents.getpixel((width // 2, int(height * 0.6))), (255, 255, 255))
    footer_row = [contents.getpixel((x, y)) for y in range(int(height * 0.9), height) for x in range(width)]
    assert any(close(pixel, SECONDARY, tolerance=40) for pixel in footer_row)  # the footer's rule
    # the title is written on the colour field: light pixels inside it
    field = [cover.getpixel((x, y)) for y in range(int(height * 0.2), int(height * 0.4)) for x in range(width)]
    assert sum(1 for pixel in field if pixel[0] > 200 and pixel[1] > 200) > 200  # none without the text
