"""axe-core (WCAG 2 A/AA, colour contrast included) finds no violation on the pages a team uses: home, a run, a
deliverable, approvals, inbox, the brand kit and a client's review pages (one deliverable, a whole run). Each in the
light and the dark theme, both as the device asks (prefers-color-scheme, the default "system" theme) and as the
app's own toggle sets it against the device; at 1280 × 900, and for the device themes at 390 × 844 too, where no
page may scroll sideways either. The data has what the pages show at their fullest: LinkedIn, Facebook and X posts
with hashtags, an amended post whose revision table says "passed", comments, mentions, a review link and a filled
brand kit. One browser; one context per device theme, reused for every page.
Screenshots: test-output/screenshots/a11y-*.png."""

import pytest

from aicmo.core.services import preference_set_theme
from aicmo.testing.axe import axe_problems
from aicmo.testing.browser import screenshot
from brands.services import brand_kit_update
from deliverables.models import Notification
from deliverables.services import deliverable_amend, deliverable_submit
from deliverables.services.comments import comment_create
from deliverables.services.review_links import review_link_create, run_review_link_create

from .review_helpers import generate_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def seed(marketer, manager, run_tasks_inline):
    """A campaign for LinkedIn, Facebook and X; the LinkedIn post amended (v2, checks passed), discussed and sent
    to a client; all three posts waiting for the manager; a filled brand kit; read and unread notifications."""
    brand = marketer.brands.get()
    brand_kit_update(
        brand=brand,
        actor=manager,
        changes={
            "audience": "Home baristas and small offices who care where their beans come from.",
            "tone_of_voice": "Warm, plain-spoken, a little playful",
            "voice_examples": ["Roasted Monday, in your cup by Friday.", "Good coffee is a small daily luxury."],
            "required_disclaimers": ["Offer valid while stocks last."],
            "website_url": "https://acme-coffee.example",
            "offer_url": "https://acme-coffee.example/winter",
            "primary_color": "#6f4e37",
            "secondary_color": "#f2c14e",
            "font_family": "Georgia, serif",
            "monthly_budget_usd": "250",
        },
    )
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin", "facebook", "twitter"])
    posts = {post.platform: post for post in run.deliverables.filter(platform__isnull=False)}
    assert set(posts) == {"linkedin", "facebook", "twitter"}, posts
    assert all(post.hashtags for post in posts.values()), "the previews must show hashtags"
    linkedin = posts["linkedin"]
    revision = deliverable_amend(
        deliverable=linkedin,
        actor=marketer,
        version=linkedin.version,
        content_markdown="Warm up this winter: our single-origin roasts, 20% off for LinkedIn followers this week. "
        "Offer valid while stocks last.",
        note="Winter offer",
    )
    assert not revision.quality.get("blocking") and not revision.quality.get("warnings"), revision.quality
    comment_create(deliverable=linkedin, actor=marketer, body="@manager the winter offer is in; hashtags kept.")
    Notification.objects.filter(user=manager).update(read_at=revision.created_at)  # one read, one unread below
    comment_create(deliverable=linkedin, actor=marketer, body="@manager the client link is on its way.")
    for post in posts.values():
        deliverable_submit(deliverable=post, actor=marketer)
    link = review_link_create(deliverable=linkedin, actor=manager)
    run_link = run_review_link_create(run=run, actor=manager)
    pages = {
        "home": "/",
        "run": f"/runs/{run.run_id}/",
        "deliverable": f"/deliverables/{linkedin.pk}/",
        "approvals": "/approvals/",
        "inbox": "/inbox/",
        "brand-kit": f"/brands/{brand.slug}/",
    }
    return pages, f"/r/{link.token}/", f"/r/{run_link.token}/"


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def check(page, label, problems, *, phone=False, shots=True):
    """axe at the desktop size, and when `phone` at 390 × 844 too, where the page must also not scroll sideways
    (WCAG 1.4.10, reflow: axe does not check it). Problems are collected, so one run reports every page that
    fails. A full-page screenshot of each (`shots`: the toggled themes look the same as the device's)."""
    sizes = [("desktop", DESKTOP)] + ([("phone", PHONE)] if phone else [])
    for size_name, size in sizes:
        page.set_viewport_size(size)
        where = f"{label} at {size['width']}×{size['height']}"
        found = axe_problems(page, where)
        if found:
            problems.append(found)
        if size is PHONE:
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > size["width"]:
                problems.append(f"{where} — {page.url}\n  [reflow] the page is {width} px wide: it scrolls sideways")
        if shots:
            screenshot(page, f"a11y-{label.replace(' ', '-')}-{size_name}", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_axe_finds_no_violations_light_and_dark(browser, live_server, marketer, manager, run_tasks_inline):
    from playwright.sync_api import expect

    pages, review, run_review = seed(marketer, manager, run_tasks_inline)
    base = live_server.url
    problems: list[str] = []
    for scheme, toggled in (("light", "dark"), ("dark", "light")):
        preference_set_theme(user=manager, theme="system")
        context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
        page = context.new_page()
        page.set_default_timeout(15_000)

        # The client first, without an account (the review page follows the device's theme).
        page.goto(f"{base}{review}")
        expect(page.get_by_role("heading", name="The text to review")).to_be_visible()
        check(page, f"review {scheme}", problems, phone=True)
        page.goto(f"{base}{run_review}")  # a whole run sent to the client
        expect(page.get_by_role("heading", name="Decide everything still open at once")).to_be_visible()
        check(page, f"run-review {scheme}", problems, phone=True)

        log_in(page, base, "manager")
        assert page.locator("html").get_attribute("data-theme") == "system"
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            check(page, f"{name} {scheme}", problems, phone=True)

        # The app's own toggle: the other theme at once, remembered for the next pages.
        page.get_by_role("button", name="Switch between light and dark theme").click()
        expect(page.locator("html")).to_have_attribute("data-theme", toggled)
        page.wait_for_load_state("networkidle")  # the preference is saved before the next page asks for it
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            assert page.locator("html").get_attribute("data-theme") == toggled
            check(page, f"{name} {toggled}-toggled-on-{scheme}-device", problems, shots=False)
        context.close()
    if problems:
        pytest.fail(f"axe-core found violations on {len(problems)} page(s):\n\n" + "\n\n".join(problems), pytrace=False)
