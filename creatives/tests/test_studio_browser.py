"""A studio conversation in a real browser (Debian's chromium through Playwright) with the offline assistant: the
answers stream in, an off-topic request is declined, the brief is confirmed, the concept is saved and shows in the
studio's asset list (and the API), an image is made, and the dashboard switches to dark mode. Replies run in
threads through the database transport (the `make run` shape, no Redis). Screenshots go to
test-output/screenshots/studio-*.png."""

import re
import threading
import time

import pytest
from django.db import connection

from aicmo.testing.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = "Cold brew concentrate: Cafe-strength coffee at home in ten seconds"


@pytest.fixture
def replies_in_threads(monkeypatch, settings):
    """Each queued reply runs in a thread, as a worker would; the offline assistant writes a word every 15 ms
    so the page has something to stream. No Redis: the database transport."""
    from aicmo.llm.providers.offline import OfflineProvider
    from creatives import tasks

    settings.REDIS_URL = ""
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []
    original_stream = OfflineProvider.stream

    def slow_stream(self, request):
        for event in original_stream(self, request):
            if event.text:
                time.sleep(0.015)
            yield event

    def work(message_id: int) -> None:
        try:
            tasks.studio_reply.run(message_id)
        except BaseException as error:  # surfaced by the test, not lost in a thread
            errors.append(error)
        finally:
            connection.close()

    def apply_async(args, **kwargs):
        thread = threading.Thread(target=work, args=(args[0],), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(OfflineProvider, "stream", slow_stream)
    monkeypatch.setattr(tasks.studio_reply, "apply_async", apply_async)
    yield threads
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def shot(page, name: str) -> None:
    screenshot(page, f"studio-{name}", full_page=False)


def ask(page, text: str):
    """Send a message and wait for the whole reply; returns the reply's element."""
    from playwright.sync_api import expect

    replies = page.locator(".studio-message-assistant")
    before = replies.count()
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")
    expect(replies).to_have_count(before + 1)
    reply = replies.nth(before)
    expect(reply).to_have_attribute("data-status", "complete")
    return reply


def test_a_studio_conversation_streams_and_ends_with_a_saved_asset(
    browser, live_server, marketer, brand, replies_in_threads
):
    from playwright.sync_api import expect

    from aicmo.core.models import UserPreference
    from deliverables.models import Asset, Deliverable

    base = live_server.url
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("link", name="Studio").click()
    page.wait_for_url(f"{base}/studio/")
    expect(page.get_by_role("heading", name="Start a conversation")).to_be_visible()
    shot(page, "01-start")
    page.get_by_role("button", name="New conversation").click()
    page.wait_for_url(re.compile(r"/studio/[0-9a-f-]{36}/$"))

    # --- the assistant asks one question at a time, and declines what is not marketing ------------------------
    expect(ask(page, "hi")).to_contain_text("What would you like to promote?")
    expect(ask(page, "What will the weather be tomorrow?")).to_contain_text("Sorry, I can only help with marketing")
    shot(page, "02-declined")
    expect(ask(page, "Our cold brew concentrate")).to_contain_text("What visual style")
    expect(ask(page, "bold and bright")).to_contain_text("Which tone of voice")
    expect(ask(page, "playful")).to_contain_text("What is the pitch")
    summary = ask(page, "Cafe-strength coffee at home in ten seconds")
    expect(summary).to_contain_text("Here is the brief so far:")
    expect(summary.locator("li")).to_have_count(4)  # the final reply is rendered Markdown, not raw text
    shot(page, "03-summary")

    # --- confirming: the concept streams in word by word, then is saved ------------------------------------------
    page.get_by_label("Message").fill("yes")
    page.get_by_label("Message").press("Enter")
    streaming = page.locator(".studio-message-assistant.is-streaming")
    expect(streaming).to_contain_text("Here is your concept.")
    partial = streaming.locator("[data-text]").inner_text()
    shot(page, "04-streaming")
    reply = page.locator(".studio-message-assistant").last
    expect(reply).to_have_attribute("data-status", "complete")
    final = reply.locator("[data-text]").inner_text()
    assert partial.startswith("Here is your concept.") and len(partial) < len(final), (partial, final)
    expect(reply.locator(".studio-action-asset")).to_contain_text(f"Saved to your assets: {HEADLINE}")
    assets = page.locator("[data-assets]")
    expect(assets.locator(".studio-asset-headline")).to_have_text(HEADLINE)
    expect(assets).to_contain_text("Shop now · 3 image prompts")
    expect(assets.locator(".badge")).to_have_text("Draft")
    shot(page, "05-saved")

    # --- an image, only when asked ------------------------------------------------------------------------------
    expect(ask(page, "Make a square image of it")).to_contain_text("Here is your square image (1024x1024)")
    image = Asset.objects.get()
    expect(page.locator(f'.studio-action-image img[src="{image.url}"]')).to_be_visible()
    expect(assets.locator(f'img[src="{image.url}"]')).to_be_visible()
    assert page.evaluate(f"fetch('{image.url}').then(r => r.headers.get('content-type'))") == "image/png"
    shot(page, "06-image")

    # --- the theme, through the assistant --------------------------------------------------------------------
    assert page.evaluate("document.documentElement.dataset.theme") != "dark"
    ask(page, "Switch to dark mode please")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert UserPreference.objects.get(user=marketer).theme == "dark"
    shot(page, "07-dark")

    # --- the saved asset is in the API's gallery and survives a reload ----------------------------------------
    listed = page.evaluate("fetch('/api/v1/assets').then(r => r.json())")
    deliverable = Deliverable.objects.get()
    assert [(a["id"], a["headline"], a["images"], a["status"]) for a in listed["results"]] == [
        (str(deliverable.pk), HEADLINE, [image.url], "draft")
    ]
    page.reload()
    expect(page.locator(".studio-message-assistant")).to_have_count(9)
    expect(page.locator("[data-assets] .studio-asset-headline")).to_have_text(HEADLINE)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"  # rendered by the server now
    page.get_by_role("link", name=HEADLINE).first.click()
    page.wait_for_url(f"{base}/deliverables/{deliverable.pk}/")
    expect(page.locator("h1")).to_contain_text(HEADLINE)
    shot(page, "08-deliverable")
    assert problems == []
