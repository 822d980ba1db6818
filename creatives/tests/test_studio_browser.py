"""A studio conversation in a real browser (Debian's chromium through Playwright) against uvicorn (ASGI, so the
ChatKit stream really streams), with the offline assistant: the page speaks the ChatKit protocol to POST
/chatkit. Off-script messages (an image before any concept, a theme change mid-brief, "save it") are
understood, the theme changes at once, the provider of each reply shows, and no chat message ever becomes a
flash alert. Replies run in worker threads and travel through the real Redis. Screenshots go to
test-output/screenshots/studio-*.png."""

import re
import socket
import threading
import time

import pytest

from aicmo.testing.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = "Cold brew concentrate: Cafe-strength coffee at home in ten seconds"


@pytest.fixture
def asgi_server():
    """uvicorn serving the project's ASGI application (and its static files) on a free port, in this process
    (so it sees the test database and the worker-thread patch)."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        ASGIStaticFilesHandler(get_asgi_application()), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def slow_offline(monkeypatch):
    """The offline assistant writes a word every 15 ms, so the page has something to stream."""
    from aicmo.llm.providers.offline import OfflineProvider

    original = OfflineProvider.stream

    def slow_stream(self, request):
        for event in original(self, request):
            if event.text:
                time.sleep(0.015)
            yield event

    monkeypatch.setattr(OfflineProvider, "stream", slow_stream)


def shot(page, name: str) -> None:
    screenshot(page, f"studio-{name}", full_page=False)


def ask(page, text: str):
    """Send a message and wait for the turn to end; returns the last assistant message."""
    from playwright.sync_api import expect

    chat = page.locator("[data-studio-chat]")
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")
    expect(chat).to_have_attribute("data-busy", "true")
    expect(chat).to_have_attribute("data-busy", "false")
    return page.locator(".studio-message-assistant[data-status=complete]").last


def test_a_studio_conversation_over_chatkit(browser, asgi_server, marketer, brand, worker_threads, slow_offline):
    from playwright.sync_api import expect

    from aicmo.core.models import UserPreference
    from creatives.models import StudioThread
    from deliverables.models import Asset, Deliverable

    base = asgi_server
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    chatkit_requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            chatkit_requests.append(request.post_data_json["type"]) if request.url.endswith("/chatkit") else None
        ),
    )

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("link", name="Studio").click()
    page.wait_for_url(f"{base}/studio/")
    expect(page.locator("[data-chat-title]")).to_have_text("New conversation")

    # --- the first message creates the thread (threads.create) and the answer streams in -----------------------
    expect(ask(page, "hi")).to_contain_text("What would you like to promote?")
    page.wait_for_url(re.compile(r"/studio/[0-9a-f-]{36}/$"))
    thread = StudioThread.objects.get()
    expect(ask(page, "What will the weather be tomorrow?")).to_contain_text("Sorry, I can only help with marketing")
    expect(ask(page, "Our cold brew concentrate")).to_contain_text("What visual style")
    expect(page.locator("[data-chat-title]")).to_have_text("Cold brew concentrate")  # named from the conversation
    expect(page.locator(f'[data-thread-id="{thread.pk}"] [data-thread-title]')).to_have_text("Cold brew concentrate")
    shot(page, "01-questions")

    # --- off script: an image before any concept is made and held for the concept --------------------------------
    reply = ask(page, "Make an image of a glass of iced coffee on a marble table")
    expect(reply).to_contain_text("I'll attach it to the concept you save next. What visual style")
    image = Asset.objects.get()
    expect(page.locator(f'.studio-widget img[src="{image.url}"]')).to_be_visible()
    assert image.deliverable is None and StudioThread.objects.get().pending_images == [str(image.pk)]
    expect(ask(page, "bold and bright")).to_contain_text("Which tone of voice")
    expect(ask(page, "playful")).to_contain_text("What is the pitch")
    summary = ask(page, "Cafe-strength coffee at home in ten seconds")
    expect(summary).to_contain_text("Here is the brief so far:")
    expect(summary.locator("li")).to_have_count(4)  # Markdown rendered as a list, not raw text
    shot(page, "02-summary")

    # --- off script: the theme changes at once (a ChatKit client tool call) and is remembered ------------------
    assert page.evaluate("document.documentElement.dataset.theme") != "dark"
    page.get_by_label("Message").fill("Switch the theme to dark please")
    page.get_by_label("Message").press("Enter")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")  # during the turn, not after a reload
    expect(page.locator("[data-studio-chat]")).to_have_attribute("data-busy", "false")
    expect(page.locator(".studio-message-tool [data-text]").last).to_have_text("Switched the page to dark mode.")
    assert UserPreference.objects.get(user=marketer).theme == "dark"
    assert "threads.add_client_tool_output" in chatkit_requests
    thread.refresh_from_db()
    assert thread.brief == {}  # "Switch the theme…" was not filed as the pitch
    shot(page, "03-dark")

    # --- off script: "save it" writes the concept from the confirmed brief and saves it -----------------------
    page.get_by_label("Message").fill("save it")
    page.get_by_label("Message").press("Enter")
    streaming = page.locator(".studio-message-assistant.is-streaming")
    expect(streaming).to_contain_text("Here is your concept.")
    partial = streaming.locator("[data-text]").inner_text()
    expect(page.locator("[data-studio-chat]")).to_have_attribute("data-busy", "false")
    deliverable = Deliverable.objects.get()
    final = page.locator(".studio-message-assistant[data-status=complete]").nth(-2)
    assert partial.startswith("Here is your concept.") and len(partial) < len(final.inner_text()), partial
    expect(page.locator(".studio-widget").last).to_contain_text("Saved to your assets · draft for review")
    expect(page.locator(".studio-widget").last.get_by_role("link", name="Open the asset")).to_have_attribute(
        "href", f"/deliverables/{deliverable.pk}/"
    )
    assets = page.locator("[data-assets]")
    expect(assets.locator(".studio-asset-headline")).to_have_text(HEADLINE)
    expect(assets.locator(f'img[src="{image.url}"]')).to_be_visible()  # the held image joined the concept
    image.refresh_from_db()
    assert image.deliverable == deliverable
    expect(page.locator("[data-provider]").first).to_have_text("Answered by offline · offline-templates-v1")
    assert (
        page.locator(".studio-message-assistant [data-provider]").count()
        == page.locator(".studio-message-assistant[data-status=complete]").count()
    )
    shot(page, "04-saved")

    # --- the /assets JSON the ChatKit sample reads ------------------------------------------------------------
    listed = page.evaluate("fetch('/assets', {headers: {Accept: 'application/json'}}).then(r => r.json())")
    assert [(a["id"], a["headline"], a["images"]) for a in listed["assets"]] == [
        (str(deliverable.pk), HEADLINE, [image.url])
    ]

    # --- a reload: the conversation comes back from items.list, no flash alert, the theme stays ---------------
    count = page.locator(".studio-message").count()
    page.reload()
    expect(page.locator(".studio-message")).to_have_count(count)
    expect(page.locator(".messages .alert")).to_have_count(0)
    expect(page.locator("[role=alert]")).to_have_count(0)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"  # rendered by the server now
    expect(page.locator("[data-chat-title]")).to_have_text("Cold brew concentrate")
    shot(page, "05-reloaded")
    assert "items.list" in chatkit_requests and "threads.create" in chatkit_requests
    assert problems == []


def _png_1x1() -> bytes:
    """A real (decodable) 1×1 PNG, so the browser shows it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xcc\x88\x44"))
        + (chunk(b"IEND", b""))
    )


def test_an_image_is_attached_from_the_studio_page(browser, asgi_server, marketer, brand, worker_threads):
    """The composer's Image control: a wrong type is refused on the page, a PNG uploads (attachments.create,
    then its bytes), goes with the next message, shows in the conversation (also after a reload) and the
    assistant acknowledges it."""
    from playwright.sync_api import expect

    from creatives.models import StudioAttachment

    base = asgi_server
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.set_default_timeout(60_000)  # the shared 2-core machine can be slow
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/studio/")

    picker = page.locator("[data-attach]")
    picker.set_input_files([{"name": "anim.gif", "mimeType": "image/gif", "buffer": b"GIF89a" + bytes(20)}])
    expect(page.locator("[data-status]")).to_have_text("“anim.gif” is not a PNG, JPEG or WebP image.", timeout=30_000)
    picker.set_input_files([{"name": "bottle.png", "mimeType": "image/png", "buffer": _png_1x1()}])
    expect(page.locator("[data-attachments] li")).to_contain_text("bottle.png", timeout=30_000)
    attachment = StudioAttachment.objects.get()
    assert attachment.uploaded_at is not None and attachment.thread_id is None

    reply = ask(page, "Our cold brew concentrate")
    thanks = "Thanks for the image “bottle.png”: I'll use it as the product image reference."
    expect(reply).to_contain_text(thanks, timeout=30_000)
    expect(page.locator("[data-attachments] li")).to_have_count(0)  # sent with the message
    shown = page.locator('.studio-message-user img[alt="Attached image: bottle.png"]')
    expect(shown).to_be_visible(timeout=30_000)
    assert shown.evaluate("image => image.naturalWidth") == 1  # the bytes came back from the preview URL
    shot(page, "attachment")
    page.reload()
    expect(page.locator('.studio-message-user img[alt="Attached image: bottle.png"]')).to_be_visible(timeout=30_000)
    attachment.refresh_from_db()
    assert attachment.thread_id is not None
    assert not problems, problems
