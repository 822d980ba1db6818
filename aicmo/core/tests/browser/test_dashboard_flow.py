"""The whole flow in a real browser (Debian's chromium through Playwright): a marketer generates a campaign with
the offline provider and watches the progress bar fill, amends a post and submits it; a manager approves it and
downloads the Word export. Generation tasks really run, in threads, a little apart, so the bar is seen moving.
Screenshots of each step go to test-output/screenshots/."""

import re
import threading
import time

import pytest
from django.db import connection

from aicmo.testing.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMENDED = "Roasted on Monday, in your cup by Friday. Pre-order the Spring single-origin today."


@pytest.fixture
def tasks_in_threads(monkeypatch):
    """Each dispatched generation task runs its body in a thread, the n-th one after 0.6 + 0.5·n seconds,
    so the page sees the slots finish one by one."""
    from deliverables import tasks

    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def work(deliverable_id: str, delay: float) -> None:
        time.sleep(delay)
        try:
            tasks.generate_deliverable.run(deliverable_id)
        except BaseException as error:  # surfaced by the test, not lost in a thread
            errors.append(error)
        finally:
            connection.close()

    def apply_async(args, **kwargs):
        thread = threading.Thread(target=work, args=(args[0], 0.6 + 0.5 * len(threads)), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", apply_async)
    yield threads
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def shot(page, name: str) -> None:
    screenshot(page, f"dashboard-{name}", full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_marketer_generates_amends_and_submits_then_manager_approves_and_exports(
    browser, live_server, marketer, manager, tasks_in_threads
):
    import docx
    from playwright.sync_api import expect

    from deliverables.models import Deliverable, Run

    base = live_server.url
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    # --- the marketer writes a brief -----------------------------------------------------------------------
    page.goto(f"{base}/accounts/login/")
    shot(page, "01-login")
    log_in(page, base, "marketer")
    shot(page, "02-home")
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Campaign name").fill("Spring Single-Origin")
    page.get_by_label("Objectives").fill("Awareness\n500 pre-orders")
    page.get_by_label("LinkedIn").check()
    page.get_by_label("Budget (USD)").fill("12000")
    shot(page, "03-brief")
    page.get_by_role("button", name="Generate campaign").click()

    # --- …and watches the progress bar fill without reloading the page ---------------------------------------
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run = Run.objects.get()
    total = run.deliverables.count()
    assert total == 5
    page.evaluate("window.__sameDocument = true")
    progress = page.locator("#run-progress")
    seen = [int(progress.get_attribute("value"))]
    assert seen[0] < total
    shot(page, "04-run-in-progress")
    deadline = time.monotonic() + 30
    while seen[-1] < total and time.monotonic() < deadline:
        page.wait_for_timeout(150)
        seen.append(int(page.locator("#run-progress").get_attribute("value")))
        if 0 < seen[-1] < total and not any(0 < value < total for value in seen[:-1]):
            shot(page, "05-run-part-way")
    expect(page.locator("[data-progress-text]")).to_have_text(f"{total} / {total} done · 100%")
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped the partial; no reload
    assert len(set(seen)) >= 3, seen  # we saw it at 0, part-way and full
    assert seen == sorted(seen), seen
    expect(page.locator("#run-live")).not_to_have_attribute("hx-trigger", "every 1s")  # polling stopped
    expect(page.locator(".badge-run-success")).to_be_visible()
    shot(page, "06-run-done")

    # --- amends the LinkedIn post with the live preview, and submits it ---------------------------------------
    post = Deliverable.objects.get(run=run, kind="linkedin_post")
    page.locator(f'#slot-{post.pk} a:has-text("Open, amend and review")').click()
    page.wait_for_url(f"{base}/deliverables/{post.pk}/")
    page.locator("#amend summary").click()
    page.get_by_label("Content (Markdown)").fill(AMENDED)
    page.get_by_label("What changed, and why").fill("Sharper hook")
    expect(page.locator("#amend-preview .post-text")).to_contain_text("Roasted on Monday")  # htmx preview
    shot(page, "07-amend-preview")
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator(".messages")).to_contain_text("Saved as version 2.")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messages")).to_contain_text("Submitted for review.")
    expect(page.locator(".meta-line .badge")).to_have_text("In review")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # a marketer cannot approve
    shot(page, "08-submitted")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))

    # --- the manager approves it from the queue ----------------------------------------------------------------
    log_in(page, base, "manager")
    page.get_by_role("link", name="Approvals").click()
    shot(page, "09-approvals")
    page.get_by_role("link", name="Review").click()
    page.wait_for_url(f"{base}/deliverables/{post.pk}/")
    page.get_by_label("Comment").fill("Ship it")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text("Approved.")
    expect(page.locator(".meta-line .badge")).to_have_text("Approved")
    shot(page, "10-approved")

    # --- …and downloads the Word export of what is approved ----------------------------------------------------
    page.get_by_label("Approved deliverables only").check()
    with page.expect_download() as download_info:
        page.locator('form[action$="/export"] button[value="docx"]').click()
    download = download_info.value
    assert download.suggested_filename.startswith("aicmo_acme_spring-single-origin_")
    assert download.suggested_filename.endswith(".docx")
    document = docx.Document(download.path())
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert AMENDED in text
    assert "Campaign brief" not in text  # approved only: the drafts stay out
    shot(page, "11-exported")

    post.refresh_from_db()
    assert (post.status, post.version) == (Deliverable.Status.APPROVED, 2)
    assert problems == []
