"""The studio through the official SDKs against the local fake server: streamed text and tool calls on OpenAI
(function tools) and Anthropic (tool use), the tool loop and its bound, tool validation, image retries, and a
provider failing mid-stream."""

import json
from decimal import Decimal
from typing import Any

import pytest

from aicmo.testing.fake_llm_server import PNG_BYTES, Reply
from creatives.models import StudioMessage
from creatives.studio import services, streaming
from creatives.studio.concepts import AdConcept, ad_asset_save
from creatives.studio.services import STOPPED_NOTE, message_retry
from deliverables.models import Asset, Deliverable, ProviderCall, Revision, Run

pytestmark = pytest.mark.django_db

CONCEPT = {
    "product": "Cold brew concentrate",
    "style": "bold",
    "tone": "playful",
    "pitch": "Cafe-strength coffee at home in ten seconds",
    "headline": "Cafe-strength cold brew in ten seconds",
    "primary_text": (
        "Skip the queue and the cafe prices. Acme cold brew concentrate turns a glass of ice and water "
        "into a smooth, bold coffee in ten seconds flat. Roasted in small batches and steeped for "
        "eighteen hours, it tastes like your favourite barista made it, only you did, in your kitchen, "
        "before your first meeting."
    ),
    "call_to_action": "Shop now",
    "image_prompts": [
        "A glass of iced cold brew on a sunlit kitchen counter, bold colours, morning light",
        "Hands pouring concentrate over ice, close-up, playful splash, studio light",
        "A commuter smiling with a cold brew at a bright city window, candid photo",
    ],
    "revise": False,
}
TOOL_NAMES = ["save_ad_asset", "generate_ad_image", "switch_theme"]


class RecordingPublisher:
    """What the browser would receive, in order."""

    def __init__(self):
        self.events: list[tuple[str, Any]] = []

    def reset(self, content):
        self.events.append(("reset", content))

    def token(self, text):
        self.events.append(("token", text))

    def tool(self, action):
        self.events.append(("tool", action["type"]))

    def saved(self):
        pass  # nothing reaches the browser

    def close(self, message):
        self.events.append(("close", message.status))


@pytest.fixture
def published(monkeypatch) -> RecordingPublisher:
    publisher = RecordingPublisher()
    monkeypatch.setattr(services, "reply_publisher", lambda message: publisher)
    return publisher


def tool_messages(body: dict) -> list[dict]:
    return [m for m in body["messages"] if m["role"] == "tool"]


def test_openai_streamed_reply_with_a_save_ad_asset_call_saves_the_asset(thread, say, openai_only, published):
    fake = openai_only
    fake.enqueue(
        "openai",
        Reply(
            text="Here is your concept.",
            stream_chunks=["Here is ", "your concept."],
            tool_calls=[("save_ad_asset", CONCEPT)],
            usage=(900, 200),
        ),
        Reply(text="Saved it!", stream_chunks=["Saved ", "it!"], usage=(1200, 10)),
    )

    reply = say(thread, "yes, write it", trace_id="trace-openai")

    assert published.events == [
        ("token", "Here is "),
        ("token", "your concept."),
        ("tool", "asset"),
        ("token", "\n\n"),
        ("token", "Saved "),
        ("token", "it!"),
        ("close", "complete"),
    ]
    assert (reply.status, reply.content, reply.provider, reply.model) == (
        "complete",
        "Here is your concept.\n\nSaved it!",
        "openai",
        "gpt-4.1-mini",
    )
    assert reply.tokens_used == 2310
    deliverable = Deliverable.objects.get()
    revision = Revision.objects.get()
    assert (deliverable.kind, deliverable.version, deliverable.run.module) == ("ad_copy", 1, "studio")
    assert revision.structured == {
        k: CONCEPT[k] for k in ("headline", "primary_text", "call_to_action", "image_prompts")
    }
    assert (revision.provider, revision.model) == ("openai", "gpt-4.1-mini")
    assert revision.quality == {"blocking": [], "warnings": []}
    first, second = fake.requests_to("openai")
    assert first.body["stream"] is True
    assert [tool["function"]["name"] for tool in first.body["tools"]] == TOOL_NAMES
    assert first.body["messages"][-1] == {"role": "user", "content": "yes, write it"}
    assert second.body["messages"][-2]["tool_calls"][0]["id"] == "call_fake_1"
    [result] = tool_messages(second.body)
    assert result["tool_call_id"] == "call_fake_1"
    assert json.loads(result["content"]) == {
        "status": "saved",
        "asset_id": str(deliverable.pk),
        "version": 1,
        "created": True,
        "headline": CONCEPT["headline"],
        "quality_warnings": [],
        "blocking_issues": [],
    }
    calls = ProviderCall.objects.order_by("created_at")
    assert [(c.provider, c.use_case, c.outcome, c.trace_id, c.run_id) for c in calls] == [
        ("openai", "studio", "ok", "trace-openai", deliverable.run_id)
    ] * 2
    # gpt-4.1-mini: $0.40 in, $1.60 out per million tokens
    assert Run.objects.get().cost_usd == Decimal("0.001176")


def test_anthropic_streamed_reply_with_tool_use_saves_the_asset(thread, say, anthropic_only, published):
    fake = anthropic_only
    fake.enqueue(
        "anthropic",
        Reply(
            text="Here is your concept.",
            stream_chunks=["Here is ", "your concept."],
            tool_calls=[("save_ad_asset", CONCEPT)],
        ),
        Reply(text="Saved it!", stream_chunks=["Saved ", "it!"]),
    )

    reply = say(thread, "yes, write it")

    assert published.events == [
        ("token", "Here is "),
        ("token", "your concept."),
        ("tool", "asset"),
        ("token", "\n\n"),
        ("token", "Saved "),
        ("token", "it!"),
        ("close", "complete"),
    ]
    assert (reply.content, reply.provider) == ("Here is your concept.\n\nSaved it!", "anthropic")
    revision = Revision.objects.get()
    assert (revision.structured["headline"], revision.provider, revision.model) == (
        CONCEPT["headline"],
        "anthropic",
        "claude-haiku-4-5",
    )
    first, second = fake.requests_to("anthropic")
    assert [tool["name"] for tool in first.body["tools"]] == TOOL_NAMES
    assert "tool_choice" not in first.body
    assert first.body["system"].startswith("You are the ad-concept assistant of AICMO's creative studio.")
    assistant, results = second.body["messages"][-2:]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Here is your concept."},
            {"type": "tool_use", "id": "toolu_fake_1", "name": "save_ad_asset", "input": CONCEPT},
        ],
    }
    assert results["role"] == "user"
    [block] = results["content"]
    assert (block["type"], block["tool_use_id"], json.loads(block["content"])["status"]) == (
        "tool_result",
        "toolu_fake_1",
        "saved",
    )


def test_save_ad_asset_validates_its_fields_and_the_model_hears_why(thread, say, openai_only):
    fake = openai_only
    broken = {**CONCEPT, "headline": "  ", "image_prompts": CONCEPT["image_prompts"][:2]}
    short = {**CONCEPT, "primary_text": "Cold brew in ten seconds. Bold taste, no queue, no fuss at all."}
    fake.enqueue(
        "openai",
        Reply(tool_calls=[("save_ad_asset", broken)]),
        Reply(tool_calls=[("save_ad_asset", short)]),
        Reply(text="Saved, though short."),
    )

    reply = say(thread, "write it")

    first_result = json.loads(tool_messages(fake.requests_to("openai")[1].body)[0]["content"])
    assert first_result == {
        "error": "The concept is incomplete: image_prompts: Give at least 3 non-empty image prompts.; headline: This "
        "field is required and may not be blank.",
        "details": {
            "image_prompts": ["Give at least 3 non-empty image prompts."],
            "headline": ["This field is required and may not be blank."],
        },
    }
    second_result = json.loads(tool_messages(fake.requests_to("openai")[2].body)[1]["content"])
    assert second_result["quality_warnings"] == ["Primary text has 13 words; ads work best with 45–80."]
    assert Deliverable.objects.count() == 1  # the broken one saved nothing; the short one is saved, with a warning
    assert reply.content == "Saved, though short."


def test_database_transport_does_not_repeat_text_buffered_when_a_round_is_saved(
    thread, say, openai_only, settings, monkeypatch
):
    """Without Redis: a round whose tools make no action (here a tool error, so nothing flushes the buffer)
    still holds its last chunks when the round is saved with the whole text; a later flush must not append
    them again."""
    settings.REDIS_URL = ""
    monkeypatch.setattr(streaming, "DB_FLUSH_S", 60)  # chunks after the first wait in the buffer
    seen: list[str] = []  # the row's text after each flush: what a reader polling the row gets
    flush = streaming.DatabaseReplyPublisher._flush

    def flush_and_read(publisher):
        flush(publisher)
        seen.append(StudioMessage.objects.get(pk=publisher.pk).content)

    monkeypatch.setattr(streaming.DatabaseReplyPublisher, "_flush", flush_and_read)
    openai_only.enqueue(
        "openai",
        Reply(text="ABC", stream_chunks=["A", "B", "C"], tool_calls=[("switch_theme", {"theme": "purple"})]),
        Reply(text="Dark it is.", stream_chunks=["Dark ", "it is."], tool_calls=[("switch_theme", {"theme": "dark"})]),
        Reply(text="Done.", stream_chunks=["Done."]),
    )

    reply = say(thread, "purple, then dark")

    assert seen[-1] == "ABC\n\nDark it is."  # flushed before the theme action; was "ABCBC\n\nDark it is."
    assert (reply.status, reply.content) == ("complete", "ABC\n\nDark it is.\n\nDone.")
    assert [a["type"] for a in reply.actions] == ["theme"]


def test_the_tool_loop_is_bounded(thread, say, openai_only, marketer):
    fake = openai_only
    fake.enqueue("openai", *[Reply(tool_calls=[("switch_theme", {"theme": "dark"})])] * 5)

    reply = say(thread, "dark mode, again and again")

    assert len(fake.requests_to("openai")) == 4
    assert reply.status == "complete"
    assert reply.content == STOPPED_NOTE
    assert [a["type"] for a in reply.actions] == ["theme"] * 3  # the calls of the last round are not run


def test_image_generation_retries_with_backoff_and_records_every_attempt(thread, say, openai_only, replies_inline):
    fake = openai_only
    ad_asset_save(
        thread=thread,
        concept=AdConcept(**{k: v for k, v in CONCEPT.items() if k != "revise"}),
        revise=False,
        provider="openai",
        model="gpt-4.1-mini",
        trace_id="trace-setup",
    )
    deliverable = Deliverable.objects.get()
    fake.enqueue("images", Reply(status=500), Reply(status=503))
    fake.enqueue(
        "openai",
        Reply(tool_calls=[("generate_ad_image", {"prompt": CONCEPT["image_prompts"][0], "shape": "portrait"})]),
        Reply(text="Here is your portrait image."),
    )

    reply = say(thread, "make a portrait image", trace_id="trace-image")

    sent = fake.requests_to("images")
    assert [(r.body["size"], r.body["prompt"], r.body["model"]) for r in sent] == [
        ("1024x1536", CONCEPT["image_prompts"][0], "gpt-image-1")
    ] * 3
    assert replies_inline == [0.5, 1.0]  # exponential backoff between the three attempts
    image_calls = ProviderCall.objects.filter(use_case="image").order_by("created_at")
    assert [(c.provider, c.outcome, c.trace_id, c.deliverable_id) for c in image_calls] == [
        ("openai", "error", "trace-image", deliverable.pk),
        ("openai", "error", "trace-image", deliverable.pk),
        ("openai", "ok", "trace-image", deliverable.pk),
    ]
    asset = Asset.objects.get()
    assert (asset.deliverable_id, asset.size, asset.provider, asset.model) == (
        deliverable.pk,
        "1024x1536",
        "openai",
        "gpt-image-1",
    )
    assert asset.file.read() == PNG_BYTES
    assert reply.actions == [
        {
            "type": "image",
            "deliverable_id": str(deliverable.pk),
            "url": asset.url,
            "shape": "portrait",
            "size": "1024x1536",
            "prompt": CONCEPT["image_prompts"][0],
        }
    ]


def test_image_generation_gives_up_after_three_attempts(thread, say, openai_only, replies_inline, settings):
    fake = openai_only
    settings.AICMO_COOLDOWN_FAILURES = 10  # three failed images would otherwise open openai's cooldown for chat too
    ad_asset_save(
        thread=thread,
        concept=AdConcept(**{k: v for k, v in CONCEPT.items() if k != "revise"}),
        revise=False,
        provider="openai",
        model="gpt-4.1-mini",
        trace_id="trace-setup",
    )
    fake.enqueue("images", *[Reply(status=500)] * 3)
    fake.enqueue(
        "openai",
        Reply(tool_calls=[("generate_ad_image", {"prompt": "A glass", "shape": "square"})]),
        Reply(text="Sorry, no image this time."),
    )

    reply = say(thread, "an image please")

    assert len(fake.requests_to("images")) == 3
    assert not Asset.objects.exists()
    result = json.loads(tool_messages(fake.requests_to("openai")[1].body)[0]["content"])
    assert result == {"error": "The image could not be made after 3 attempts; try again in a moment."}
    assert (reply.status, reply.content, reply.actions) == ("complete", "Sorry, no image this time.", [])


def test_a_stream_cut_mid_answer_discards_the_partial_text_and_can_be_retried(
    thread, say, openai_only, published, django_capture_on_commit_callbacks
):
    fake = openai_only
    fake.enqueue("openai", Reply(stream_chunks=["Here is ", "the begin"], cut_stream=True))

    reply = say(thread, "write it")

    assert published.events == [("token", "Here is "), ("token", "the begin"), ("close", "failed")]
    assert (reply.status, reply.content) == ("failed", "")  # the partial text is not kept
    assert reply.error == {
        "type": "PROVIDER_ERROR",
        "message": "The answer from openai was interrupted, so its partial text was discarded. Retry to ask again.",
    }
    assert ProviderCall.objects.get().outcome == "error"

    fake.enqueue("openai", Reply(text="All good now."))
    published.events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message_retry(message=reply, user=thread.user)

    reply.refresh_from_db()
    assert (reply.status, reply.content, reply.error, reply.attempt) == ("complete", "All good now.", None, 2)
    assert published.events == [
        ("reset", ""),
        ("token", "All "),
        ("token", "good "),
        ("token", "now."),
        ("close", "complete"),
    ]
    assert StudioMessage.objects.filter(role="assistant").count() == 1  # the same reply, not a new one


def test_no_provider_answering_fails_the_reply_with_a_clear_error(thread, say, openai_only):
    openai_only.default_status = 503

    reply = say(thread, "hello")

    assert (reply.status, reply.content) == ("failed", "")
    assert reply.error == {
        "type": "PROVIDER_ERROR",
        "message": "No provider could answer right now. Retry in a moment.",
    }


def test_a_revise_call_makes_a_new_version_and_a_new_concept_a_new_asset(thread, say, openai_only):
    fake = openai_only
    revised = {**CONCEPT, "headline": "Cold brew, cafe-strong", "revise": True}
    fake.enqueue(
        "openai",
        Reply(tool_calls=[("save_ad_asset", CONCEPT)]),
        Reply(text="Saved."),
        Reply(tool_calls=[("save_ad_asset", revised)]),
        Reply(text="New headline saved."),
        Reply(tool_calls=[("save_ad_asset", {**CONCEPT, "headline": "Ten seconds to great coffee"})]),
        Reply(text="Another concept saved."),
    )

    say(thread, "write it")
    say(thread, "change the headline")
    first = Deliverable.objects.get()
    assert ([r.structured["headline"] for r in first.revisions.order_by("version")], first.version) == (
        [CONCEPT["headline"], "Cold brew, cafe-strong"],
        2,
    )
    # The model was told which asset it was revising.
    assert (
        "## Current saved asset (version 1, status draft)"
        in fake.requests_to("openai")[2].body["messages"][0]["content"]
    )

    say(thread, "another concept")
    assert Deliverable.objects.count() == 2
    assert Deliverable.objects.exclude(pk=first.pk).get().title == "Ten seconds to great coffee"


def test_an_error_event_mid_stream_on_anthropic_fails_the_reply(thread, say, anthropic_only, published):
    anthropic_only.enqueue(
        "anthropic",
        Reply(text="Here is the start", stream_chunks=["Here is ", "the start"], stream_error="overloaded_error"),
    )

    reply = say(thread, "write it")

    assert published.events == [("token", "Here is "), ("token", "the start"), ("close", "failed")]
    assert (reply.status, reply.content, reply.error["type"]) == ("failed", "", "PROVIDER_ERROR")
    assert reply.error["message"].startswith("The answer from anthropic was interrupted")
