"""The studio with the scripted `offline` assistant (no key): the whole conversation, off-topic requests,
revisions vs new concepts, images, the theme, and the bounded history."""

import pytest

from aicmo.core.models import UserPreference
from aicmo.llm.providers.offline_studio import QUESTIONS
from creatives.models import StudioMessage
from creatives.studio import services
from deliverables.models import Asset, AuditEvent, Deliverable, ProviderCall, Revision, Run

pytestmark = pytest.mark.django_db

BRIEF_ANSWERS = [
    "hi",
    "Our cold brew concentrate",
    "bold and bright",
    "playful",
    "Cafe-strength coffee at home in ten seconds",
]
SUMMARY = (
    "Here is the brief so far:\n\n- **Product:** cold brew concentrate\n- **Style:** bold and bright\n"
    "- **Tone:** playful\n- **Pitch:** Cafe-strength coffee at home in ten seconds\n\n"
    "Shall I write the concept? Reply **yes**, or tell me what to change."
)
HEADLINE = "Cold brew concentrate: Cafe-strength coffee at home in ten seconds"
PRIMARY_TEXT = (
    "Meet cold brew concentrate from Acme Coffee Roasters. Cafe-strength coffee at home in ten seconds. "
    "Made for urban professionals, it pairs a bold and bright look with a playful voice. Every detail is "
    "chosen with care, so what you get is simple, honest and ready when you are."
)
PROMPTS = [
    "Cold brew concentrate as the hero of the frame, bold and bright styling, soft natural light, clean background "
    "with room for a headline",
    "A person from urban professionals enjoying cold brew concentrate, candid lifestyle photo, playful mood, shallow "
    "depth of field",
    "Close-up detail that shows “Cafe-strength coffee at home in ten seconds”, bold and bright art direction in the "
    "colours of Acme Coffee Roasters, editorial composition",
]
MENU = (
    "I can change the headline or the call to action, write another concept, or make an image of it (square, "
    "portrait or landscape)."
)


def brief_confirmed(thread, say):
    for text in BRIEF_ANSWERS:
        reply = say(thread, text)
    return reply


def test_from_hi_to_a_saved_asset_one_question_at_a_time(thread, say):
    replies = [say(thread, text).content for text in BRIEF_ANSWERS]

    assert replies == [
        f"Hi! I'm your ad-concept assistant for Acme Coffee Roasters. {QUESTIONS['product']}",
        f"Got it. {QUESTIONS['style']}",
        f"Got it. {QUESTIONS['tone']}",
        f"Got it. {QUESTIONS['pitch']}",
        SUMMARY,
    ]
    assert not Deliverable.objects.exists()  # nothing is saved before the marketer confirms

    reply = say(thread, "yes")

    assert reply.status == "complete"
    deliverable = Deliverable.objects.get()
    assert (deliverable.kind, deliverable.status, deliverable.version, deliverable.generation_status) == (
        "ad_copy",
        "draft",
        1,
        "done",
    )
    revision = Revision.objects.get(deliverable=deliverable)
    assert revision.structured == {
        "headline": HEADLINE,
        "primary_text": PRIMARY_TEXT,
        "call_to_action": "Shop now",
        "image_prompts": PROMPTS,
    }
    assert 45 <= len(PRIMARY_TEXT.split()) <= 80
    assert revision.content_markdown.startswith(f"## {HEADLINE}\n\n{PRIMARY_TEXT}\n\n**Call to action:** Shop now")
    assert revision.quality == {"blocking": [], "warnings": []}
    assert (revision.provider, revision.model, revision.note) == (
        "offline",
        "offline-templates-v1",
        "New concept from the studio",
    )
    assert {k: deliverable.metadata[k] for k in ("product", "style", "tone", "pitch", "provider", "studio_thread")} == {
        "product": "cold brew concentrate",
        "style": "bold and bright",
        "tone": "playful",
        "pitch": "Cafe-strength coffee at home in ten seconds",
        "provider": "offline",
        "studio_thread": str(thread.pk),
    }
    run = Run.objects.get()
    assert (run.module, run.status, run.brand_id, run.requested_by_id, run.provider) == (
        "studio",
        "SUCCESS",
        thread.brand_id,
        thread.user_id,
        "offline",
    )
    assert thread.run_id == run.pk and thread.latest_deliverable_id == deliverable.pk
    assert thread.brief == {
        "product": "cold brew concentrate",
        "style": "bold and bright",
        "tone": "playful",
        "pitch": "Cafe-strength coffee at home in ten seconds",
    }
    assert thread.title == "Cold brew concentrate"
    # Two rounds: the concept with its save_ad_asset call, then the words after the tool answered.
    assert [step["tool_calls"][0]["name"] if step["tool_calls"] else None for step in reply.steps] == [
        "save_ad_asset",
        None,
    ]
    assert reply.content.endswith(
        f"Saving it to your assets now.\n\nSaved “{HEADLINE}” to your assets as a draft, ready for review. {MENU}"
    )
    assert reply.actions == [
        {
            "type": "asset",
            "deliverable_id": str(deliverable.pk),
            "headline": HEADLINE,
            "version": 1,
            "created": True,
            "url": f"/deliverables/{deliverable.pk}/",
        }
    ]
    # Every call of the conversation, the questions before the run existed too, counts for the studio run.
    assert ProviderCall.objects.filter(run=run, use_case="studio", outcome="ok").count() == 7
    assert not ProviderCall.objects.filter(run__isnull=True).exists()


def test_off_topic_requests_are_declined_and_the_question_comes_back(thread, say):
    say(thread, "hi")
    say(thread, "cold brew")

    reply = say(thread, "Can you write me a Python script to sort a list?")

    assert reply.content == (
        f"Sorry, I can only help with marketing: ad concepts, copy and images. {QUESTIONS['style']}"
    )
    assert say(thread, "minimal").content == f"Got it. {QUESTIONS['tone']}"  # the brief goes on where it was
    assert not Deliverable.objects.exists()


def test_change_the_headline_makes_revision_2_and_a_new_concept_makes_a_new_asset(thread, say, marketer):
    brief_confirmed(thread, say)
    say(thread, "yes")
    first = Deliverable.objects.get()

    revised = say(thread, "Change the headline please")

    first.refresh_from_db()
    assert (first.version, first.status, Deliverable.objects.count()) == (2, "draft", 1)
    v1, v2 = Revision.objects.filter(deliverable=first).order_by("version")
    assert v1.structured["headline"] == HEADLINE  # never overwritten: the old version stays as it was
    assert v2.structured == {**v1.structured, "headline": "Cold brew concentrate, made for your day"}
    assert v2.note == "Revised in the studio at the marketer's request"
    assert AuditEvent.objects.filter(deliverable=first, action="amend", actor=marketer, revision=2).count() == 1
    assert revised.actions == [
        {
            "type": "asset",
            "deliverable_id": str(first.pk),
            "headline": "Cold brew concentrate, made for your day",
            "version": 2,
            "created": False,
            "url": f"/deliverables/{first.pk}/",
        }
    ]

    say(thread, "Give me another concept")

    second = Deliverable.objects.exclude(pk=first.pk).get()
    assert (second.run_id, second.version, second.position) == (first.run_id, 1, 1)
    assert Revision.objects.get(deliverable=second).structured["headline"] == (
        "Why everyone is talking about cold brew concentrate"
    )
    thread.refresh_from_db()
    assert thread.latest_deliverable_id == second.pk
    assert Run.objects.count() == 1  # one studio run per thread


def test_a_concept_in_review_is_not_revised_and_the_assistant_says_why(thread, say):
    brief_confirmed(thread, say)
    say(thread, "yes")
    Deliverable.objects.update(status="in_review")

    reply = say(thread, "change the headline")

    deliverable = Deliverable.objects.get()
    assert (deliverable.version, deliverable.status) == (1, "in_review")
    assert Revision.objects.count() == 1
    assert "I could not save the concept: The current asset is in review" in reply.content


def test_images_only_when_asked_and_they_are_attached_to_the_current_asset(thread, say):
    brief_confirmed(thread, say)
    say(thread, "yes")
    assert not Asset.objects.exists()

    reply = say(thread, "Make a landscape image from the second prompt")

    asset = Asset.objects.get()
    deliverable = Deliverable.objects.get()
    assert (asset.deliverable_id, asset.size, asset.prompt, asset.provider) == (
        deliverable.pk,
        "1536x1024",
        PROMPTS[1],
        "offline",
    )
    assert asset.file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert reply.actions == [
        {
            "type": "image",
            "deliverable_id": str(deliverable.pk),
            "url": asset.url,
            "shape": "landscape",
            "size": "1536x1024",
            "prompt": PROMPTS[1],
        }
    ]
    assert ProviderCall.objects.filter(use_case="image", outcome="ok", run=deliverable.run).count() == 1


def test_switching_the_theme_is_remembered_for_the_dashboard(thread, say, marketer):
    reply = say(thread, "switch to dark mode please")

    assert reply.actions == [{"type": "theme", "theme": "dark"}]
    assert reply.content == "Switching the dashboard to dark mode.\n\nDone: the dashboard is now in dark mode."
    assert UserPreference.objects.get(user=marketer).theme == "dark"


def test_the_model_sees_a_bounded_window_plus_the_confirmed_brief(thread, say, settings, monkeypatch):
    brief_confirmed(thread, say)
    say(thread, "yes")
    settings.AICMO_STUDIO_HISTORY_MESSAGES = 4  # the brief's answers leave the window: the thread remembers them
    sent = []
    original = services._request
    monkeypatch.setattr(services, "_request", lambda *a: sent.append(original(*a)) or sent[-1])

    say(thread, "change the call to action")

    first_round = sent[0]
    user_turns = [m.content for m in first_round.messages if m.role == "user"]
    assert user_turns == ["yes", "change the call to action"]  # of 14 messages, the last 4 rows, from a user turn
    assert [m.role for m in first_round.messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert (
        "## Confirmed brief (from earlier in this conversation)\n- product: cold brew concentrate\n"
        "- style: bold and bright\n- tone: playful\n- pitch: Cafe-strength coffee at home in ten seconds"
        in first_round.system
    )
    assert f"- headline: {HEADLINE}" in first_round.system
    assert Revision.objects.get(version=2).structured["call_to_action"] == "Learn more"


def test_a_reply_that_crashes_ends_failed_not_lost(thread, say, monkeypatch):
    monkeypatch.setattr(services, "_request", lambda *a: 1 / 0)

    reply = say(thread, "hi")

    assert reply.status == "failed"
    assert reply.error == {
        "type": "INTERNAL_ERROR",
        "message": "Internal error (ZeroDivisionError). Retry to ask again.",
    }
    assert StudioMessage.objects.filter(role="user", content="hi").count() == 1
