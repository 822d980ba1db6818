"""Browser tests drive Debian's chromium through Playwright (never a downloaded browser)."""

from pathlib import Path

from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
# Headless as root, with none of the background traffic a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot under test-output/screenshots/<name>.png (kept as the test's evidence)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
