"""The ad-concept assistant behind POST /chatkit, through every provider of the chain: OpenAI and Anthropic
(official SDKs against the fake server) call the seed's tools; the offline assistant understands off-script
messages; the model sees the last 12 relevant items of the thread, every tool call with its result."""

import json

import pytest
from chatkit.types import (
    AssistantMessageItem,
    ClientToolCallItem,
    HiddenContextItem,
    InferenceOptions,
    ThreadAddUserMessageParams,
    ThreadItemDoneEvent,
    ThreadsAddUserMessageReq,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)
from django.utils import timezone

from aicmo.llm.base import CompletionRequest, Message
from aicmo.llm.providers.offline_studio import QUESTIONS, brief_from_message, studio_turn
from aicmo.testing.fake_llm_server import Reply
from creatives.models import StudioItem
from creatives.studio.assistant import history_messages
from creatives.studio.items import item_save
from deliverables.models import Deliverable, ProviderCall, Revision

pytestmark = pytest.mark.django_db(transaction=True)

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
}
TOOL_NAMES = ["save_ad_asset", "generate_ad_image", "switch_theme"]


def add(thread_id, text: str) -> ThreadsAddUserMessageReq:
    said = UserMessageInput(
        content=[UserMessageTextContent(text=text)], attachments=[], inference_options=InferenceOptions()
    )
    return ThreadsAddUserMessageReq(params=ThreadAddUserMessageParams(thread_id=str(thread_id), input=said))


def done_items(events):
    return [e.item for e in events if isinstance(e, ThreadItemDoneEvent)]


def test_openai_calls_save_ad_asset_and_hears_its_result(chatkit_as, thread, worker_threads, openai_only):
    fake = openai_only
    fake.enqueue(
        "openai",
        Reply(
            text="Here is your concept.",
            stream_chunks=["Here is ", "your concept."],
            tool_calls=[("save_ad_asset", CONCEPT)],
        ),
        Reply(text="Saved it!", stream_chunks=["Saved ", "it!"]),
    )
    events = chatkit_as(thread.user).stream(add(thread.pk, "yes, write it"))

    items = done_items(events)
    assert [type(i) for i in items] == [UserMessageItem, AssistantMessageItem, WidgetItem, AssistantMessageItem]
    assert [i.content[0].text for i in items if isinstance(i, AssistantMessageItem)] == [
        "Here is your concept.",
        "Saved it!",
    ]
    assert items[1].content[0].annotations[0].source.id == "provider:openai"
    deliverable = Deliverable.objects.get()
    revision = Revision.objects.get()
    assert (deliverable.kind, deliverable.version, deliverable.run.module) == ("ad_copy", 1, "studio")
    assert revision.structured == {
        k: CONCEPT[k] for k in ("headline", "primary_text", "call_to_action", "image_prompts")
    }
    assert (revision.provider, revision.model) == ("openai", "gpt-4.1-mini")
    first, second = fake.requests_to("openai")
    assert first.body["stream"] is True
    assert [tool["function"]["name"] for tool in first.body["tools"]] == TOOL_NAMES
    assert first.body["messages"][-1] == {"role": "user", "content": "yes, write it"}
    call_id = second.body["messages"][-2]["tool_calls"][0]["id"]
    result = second.body["messages"][-1]
    assert (result["role"], result["tool_call_id"]) == ("tool", call_id)
    assert json.loads(result["content"])["asset_id"] == str(deliverable.pk)
    assert ProviderCall.objects.filter(provider="openai", use_case="studio", run=deliverable.run).count() == 2
    # the hidden tool round is stored, so the next turn's history keeps the call with its result
    hidden = StudioItem.objects.get(thread=thread, type="hidden_context_item").data["content"]
    assert [c["name"] for c in hidden["tool_calls"]] == ["save_ad_asset"] and hidden["results"][0][
        "tool_call_id"
    ] == call_id

    fake.enqueue("openai", Reply(text="Sure.", stream_chunks=["Sure."]))
    chatkit_as(thread.user).stream(add(thread.pk, "thanks"))
    third = fake.requests_to("openai")[-1].body["messages"]
    assert [m["role"] for m in third[1:]] == ["user", "assistant", "tool", "assistant", "user"]
    assert third[2]["tool_calls"][0]["id"] == call_id and third[3]["tool_call_id"] == call_id


def test_anthropic_switch_theme_is_handed_to_the_client(chatkit_as, thread, worker_threads, anthropic_only):
    anthropic_only.enqueue(
        "anthropic",
        Reply(text="Going dark.", stream_chunks=["Going ", "dark."], tool_calls=[("switch_theme", {"theme": "dark"})]),
    )
    events = chatkit_as(thread.user).stream(add(thread.pk, "dark mode please"))
    items = done_items(events)
    assert [type(i) for i in items] == [UserMessageItem, AssistantMessageItem, ClientToolCallItem]
    assert items[1].content[0].annotations[0].source.label == "anthropic"
    assert (items[2].name, items[2].arguments, items[2].status) == ("switch_theme", {"theme": "dark"}, "pending")
    [request] = anthropic_only.requests_to("anthropic")  # the turn ended with the client's tool: one call
    assert [tool["name"] for tool in request.body["tools"]] == TOOL_NAMES


def _item(thread, n, kind):
    now = timezone.now()
    if kind == "user":
        return UserMessageItem(
            id=f"u{n}",
            thread_id=str(thread.pk),
            created_at=now,
            content=[UserMessageTextContent(text=f"user {n}")],
            inference_options=InferenceOptions(),
        )
    if kind == "assistant":
        from chatkit.types import AssistantMessageContent

        return AssistantMessageItem(
            id=f"a{n}",
            thread_id=str(thread.pk),
            created_at=now,
            content=[AssistantMessageContent(text=f"assistant {n}")],
        )
    return HiddenContextItem(id=f"h{n}", thread_id=str(thread.pk), created_at=now, content={"kind": "note"})


def test_history_is_the_last_12_relevant_items_starting_with_a_user_message(thread, settings):
    for n in range(30):
        item_save(thread, _item(thread, n, "user" if n % 2 == 0 else "assistant"))
        item_save(thread, _item(thread, n, "hidden"))
    messages = history_messages(thread)
    assert len(messages) == 12
    assert [m.content for m in messages[:2]] == ["user 18", "assistant 19"]
    assert messages[-1].content == "assistant 29"
    settings.AICMO_STUDIO_HISTORY_MESSAGES = 5  # an odd window still starts with the marketer
    assert history_messages(thread)[0].content == "user 26"


# --- the offline assistant off script ---------------------------------------------------------------------------


def turn(*conversation: str, **context):
    messages = tuple(Message("user" if i % 2 == 0 else "assistant", text) for i, text in enumerate(conversation))
    request = CompletionRequest(
        system="", messages=messages, use_case="studio", task="studio", context={"brand": {"name": "Acme"}, **context}
    )
    return studio_turn(request)


def test_a_whole_brief_in_one_message_is_summarised():
    text, calls = turn(
        "We want to promote our cold brew with a bold style and a playful tone. The pitch is coffee in ten seconds."
    )
    assert calls == ()
    assert text.startswith("Here is the brief so far:")
    assert (
        "- **Style:** bold" in text and "- **Tone:** playful" in text and "- **Pitch:** coffee in ten seconds" in text
    )
    assert brief_from_message("bold and bright") == {}  # a plain answer stays an answer


def test_off_script_messages_mid_brief_are_acted_on_not_filed():
    asked_style = f"Got it. {QUESTIONS['style']}"
    start = ("hi", f"Hi! I'm your ad-concept assistant for Acme. {QUESTIONS['product']}")
    text, calls = turn(*start, "Our cold brew", asked_style, "Switch the theme to dark please")
    assert [c.name for c in calls] == ["switch_theme"] and QUESTIONS["style"] in text
    text, calls = turn(*start, "Our cold brew", asked_style, "save it")
    assert calls == () and text == f"There is nothing to save yet: I need a little more first. {QUESTIONS['style']}"
    text, calls = turn(*start, "Our cold brew", asked_style, "Can you make a picture of an iced coffee?")
    assert [c.name for c in calls] == ["generate_ad_image"]
    assert calls[0].arguments == {"prompt": "An iced coffee, soft natural light, clean background", "size": "1024x1024"}
    # and the next answer still goes to the question that was asked
    text, _ = turn(
        *start,
        "Our cold brew",
        asked_style,
        "Switch the theme to dark please",
        f"Switching the page to dark mode. {QUESTIONS['style']}",
        "minimal",
    )
    assert QUESTIONS["tone"] in text
