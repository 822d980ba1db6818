"""Copy buttons in a real browser (Debian's chromium through Playwright): the ad creative's fields each land on
the clipboard as they are written."""

import pytest

from aicmo.testing.browser import screenshot

from .review_helpers import generate_creatives, of_kind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_copy_buttons_put_each_ad_field_on_the_clipboard(browser, live_server, marketer, run_tasks_inline):
    from playwright.sync_api import expect

    run = generate_creatives(marketer, run_tasks_inline, count=1)
    ad = of_kind(run, "ad_copy")
    fields = ad.revisions.get(version=1).structured
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/deliverables/{ad.pk}/")

    for label, text in (
        ("Copy headline to the clipboard", fields["headline"]),
        ("Copy primary text to the clipboard", fields["primary_text"]),
        ("Copy call to action to the clipboard", fields["call_to_action"]),
    ):
        button = page.get_by_role("button", name=label)
        button.click()
        expect(button).to_have_text("Copied")  # the label changes once the clipboard has it
        assert page.evaluate("navigator.clipboard.readText()") == text
    screenshot(page, "deliverable-ad-copy-buttons", full_page=True)
    context.close()
    assert problems == []
