"""The team workflow in a real browser (Debian's chromium through Playwright): a client opens a review link
in a fresh context (no account) and requests changes; the marketer finds it in the inbox and amends and
resubmits; the manager bulk-approves. Once on a desktop and once at 390 × 844 (every navigation item reachable
through the menu button). Screenshots go to test-output/screenshots/team-*.png."""

import pytest

from aicmo.testing.browser import screenshot
from deliverables.models import Deliverable
from deliverables.services import deliverable_submit
from deliverables.services.review_links import review_link_create

from .review_helpers import generate_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNCOVERED = """(el) => { const r = el.getBoundingClientRect();
  return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"""
NAV = ["Home", "New campaign", "New creatives", "Studio", "Approvals", "Assets", "Inbox", "Admin"]


def log_in(browser, base, username, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    return page


def nav_click(page, name, narrow):
    if narrow:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


@pytest.mark.parametrize(
    "viewport", [{"width": 1360, "height": 1000}, {"width": 390, "height": 844}], ids=["wide", "phone"]
)
def test_client_requests_changes_marketer_amends_manager_bulk_approves(
    browser, live_server, marketer, manager, run_tasks_inline, viewport
):
    from playwright.sync_api import expect

    narrow = viewport["width"] < 700
    tag = "phone" if narrow else "wide"
    run = generate_campaign(
        marketer, run_tasks_inline, platforms=["linkedin", "facebook"], deliverables=["social_posts"]
    )
    posts = list(run.deliverables.order_by("position"))
    for post in posts:
        deliverable_submit(deliverable=post, actor=marketer)
    sent = review_link_create(deliverable=posts[0], actor=manager)
    base = live_server.url

    # --- the client: a fresh context, no account ---------------------------------------------------------------
    client = browser.new_context(viewport=viewport).new_page()
    client.goto(f"{base}/r/{sent.token}/")
    expect(client.get_by_role("heading", name="The text to review")).to_be_visible()
    expect(client.get_by_role("navigation", name="Main")).to_have_count(0)
    client.get_by_label("Your name").fill("Dana Client")
    client.get_by_label("Comment").fill("Please mention the winter offer.")
    screenshot(client, f"team-{tag}-01-client-review", full_page=True)
    client.get_by_role("button", name="Request changes").click()
    expect(client.get_by_role("heading", name="Thank you, Dana Client")).to_be_visible()
    assert Deliverable.objects.get(pk=posts[0].pk).status == "changes_requested"

    # --- the marketer: the inbox shows it; amend and submit again -------------------------------------------------
    page = log_in(browser, base, "marketer", viewport)
    if narrow:
        expect(page.get_by_role("link", name="Inbox")).to_be_hidden()  # folded behind the menu button
    nav_click(page, "Inbox", narrow)
    page.wait_for_url(f"{base}/inbox/")
    changes = page.locator("section", has=page.get_by_role("heading", name="Changes requested of your work"))
    expect(changes.get_by_role("link")).to_have_count(1)
    expect(page.locator("[data-notifications]")).to_contain_text("Client Dana Client requested changes")
    screenshot(page, f"team-{tag}-02-inbox", full_page=True)
    changes.get_by_role("link").click()
    page.locator("details.editor summary").click()
    page.get_by_label("Content (Markdown)").fill(
        "Warm up this winter: our winter offer brings 20% off every roast. Taste it today."
    )
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator(".messages, [role=status], .alert").first).to_contain_text("Saved as version 2")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Waiting for a manager's review.")).to_be_visible()

    # --- the manager: every nav item reachable; bulk approve both --------------------------------------------------
    page = log_in(browser, base, "manager", viewport)
    nav = page.get_by_role("navigation", name="Main")
    if narrow:
        page.get_by_role("button", name="Menu").click()
        screenshot(page, f"team-{tag}-03-menu-open")
    for name in NAV:
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
        # Not clipped or covered: the link itself is what a tap on its centre hits.
        assert link.evaluate(UNCOVERED), name
    nav.get_by_role("link", name="Approvals").click()
    page.wait_for_url(f"{base}/approvals/")
    rows = page.locator("[data-queue-item]")
    expect(rows).to_have_count(2)
    expect(page.locator("time").first).to_have_text("just now")
    for post in posts:
        page.locator(f"#pick-{post.pk}").check()
    screenshot(page, f"team-{tag}-04-approvals", full_page=True)
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_text("Approved 2 deliverables.")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting for your review.")).to_be_visible()
    assert sorted(Deliverable.objects.filter(run=run).values_list("status", flat=True)) == ["approved", "approved"]
    assert Deliverable.objects.get(pk=posts[0].pk).version == 2
