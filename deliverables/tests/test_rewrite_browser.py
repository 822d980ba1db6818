"""The improve loop in a real browser (Debian's chromium through Playwright): a marketer opens an X post that is
over the limit (the meter is red and submit is blocked, with the issue listed), shortens it from the page,
sees the progress and then the new version with the meter green, and submits it; a manager approves it.
Rewrite tasks run in threads, as a worker would, after a short delay so the progress is there to see.
Screenshots go to test-output/screenshots/rewrite-*.png."""

import threading
import time

import pytest
from django.db import connection

from aicmo.testing.browser import screenshot
from deliverables.services import deliverable_amend

from .review_helpers import generate_campaign, of_kind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = ("Our Winter Blend is here, roasted on Monday and in your cup by Friday. " * 4).strip()  # 283 characters


@pytest.fixture
def rewrites_in_threads(monkeypatch):
    from deliverables import tasks

    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def work(rewrite_id: str) -> None:
        try:
            time.sleep(1.0)  # a worker picking it up
            tasks.rewrite_deliverable.run(rewrite_id)
        except BaseException as error:  # surfaced by the test, not lost in a thread
            errors.append(error)
        finally:
            connection.close()

    def apply_async(args, **kwargs):
        thread = threading.Thread(target=work, args=(args[0],), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.rewrite_deliverable, "apply_async", apply_async)
    yield threads
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def log_in(browser, base: str, username: str):
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    return page


def test_shorten_a_too_long_x_post_then_submit_and_approve(
    browser, live_server, marketer, manager, run_tasks_inline, rewrites_in_threads
):
    from playwright.sync_api import expect

    run = generate_campaign(marketer, run_tasks_inline, platforms=["twitter"])
    tweet = of_kind(run, "twitter_post")
    deliverable_amend(deliverable=tweet, actor=marketer, version=1, content_markdown=LONG, hashtags=["#WinterBlend"])
    base = live_server.url
    problems: list[str] = []

    page = log_in(browser, base, "marketer")
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base}/deliverables/{tweet.pk}/")
    content = page.locator("#content-title").locator("xpath=ancestor::section[1]")
    expect(content.locator(".char-meter")).to_have_class("char-meter char-over")
    expect(content.locator("[data-char-count]")).to_have_text("296 / 280")
    expect(page.locator("[data-submit-blocked]")).to_contain_text("296 characters: over X (Twitter)'s limit of 280.")
    expect(page.get_by_role("button", name="Submit for review")).to_have_count(0)
    screenshot(page, "rewrite-01-over-the-limit")

    page.get_by_role("button", name="Shorten").click()
    expect(page.locator("#rewrite-progress")).to_contain_text("Shortening…")
    screenshot(page, "rewrite-02-in-progress")

    expect(page.locator(".alert-success")).to_contain_text("Shortened: saved as version 3.")  # the page reloaded
    expect(content.locator(".char-meter")).to_have_class("char-meter char-ok")
    expect(content.locator("[data-char-count]")).to_have_text("154 / 280")
    expect(page.locator("[data-submit-blocked]")).to_have_count(0)
    screenshot(page, "rewrite-03-within-the-limit")

    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".alert-success")).to_contain_text("Submitted for review.")

    manager_page = log_in(browser, base, "manager")
    manager_page.goto(f"{base}/deliverables/{tweet.pk}/")
    manager_page.get_by_role("button", name="Approve").click()
    expect(manager_page.locator(".alert-success")).to_contain_text("Approved.")
    screenshot(manager_page, "rewrite-04-approved")

    tweet.refresh_from_db()
    assert (tweet.status, tweet.version) == ("approved", 3)
    assert tweet.revisions.get(version=3).provider == "offline"
    assert not problems, problems
