"""POST /chatkit speaks the ChatKit protocol: requests are built from `chatkit.types`, every streamed event is
parsed with the library's ThreadStreamEvent type. Replies run in a worker thread with the offline assistant and
travel through the real Redis (TEST_REDIS_URL)."""

import json

import pytest
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ClientToolCallItem,
    ErrorEvent,
    InferenceOptions,
    ItemsListParams,
    ItemsListReq,
    StreamOptionsEvent,
    ThreadAddClientToolOutputParams,
    ThreadAddUserMessageParams,
    ThreadCreatedEvent,
    ThreadCreateParams,
    ThreadGetByIdParams,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadListParams,
    ThreadsAddClientToolOutputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadUpdatedEvent,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)

from aicmo.core.models import UserPreference
from aicmo.testing.fake_llm_server import Reply
from creatives.models import StudioItem, StudioThread
from creatives.studio.items import item_save
from deliverables.models import Asset, Deliverable, Revision

pytestmark = pytest.mark.django_db(transaction=True)


def said(text: str) -> UserMessageInput:
    return UserMessageInput(
        content=[UserMessageTextContent(text=text)], attachments=[], inference_options=InferenceOptions()
    )


def create(text: str) -> ThreadsCreateReq:
    return ThreadsCreateReq(params=ThreadCreateParams(input=said(text)))


def add(thread_id: str, text: str) -> ThreadsAddUserMessageReq:
    return ThreadsAddUserMessageReq(params=ThreadAddUserMessageParams(thread_id=thread_id, input=said(text)))


def assistant_text(events) -> str:
    done = [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)]
    return "\n".join(part.text for item in done for part in item.content)


def deltas(events) -> str:
    return "".join(
        e.update.delta
        for e in events
        if isinstance(e, ThreadItemUpdatedEvent) and e.update.type == "assistant_message.content_part.text_delta"
    )


def test_a_thread_is_created_and_the_answer_streams(chatkit_as, marketer, brand, worker_threads):
    chatkit = chatkit_as(marketer)
    events = chatkit.stream(create("hi"))

    created = events[0]
    assert isinstance(created, ThreadCreatedEvent)
    thread = StudioThread.objects.get(pk=created.thread.id)
    assert (thread.user, thread.brand, thread.reply_key) == (marketer, brand, "")
    user_done = events[1]
    assert isinstance(user_done, ThreadItemDoneEvent) and isinstance(user_done.item, UserMessageItem)
    assert user_done.item.content[0].text == "hi"
    assert isinstance(events[2], StreamOptionsEvent)
    added = [e for e in events if isinstance(e, ThreadItemAddedEvent)]
    assert len(added) == 1 and isinstance(added[0].item, AssistantMessageItem)
    expected = "Hi! I'm your ad-concept assistant for Acme Coffee Roasters. What would you like to promote? " + (
        "Tell me about the product or service."
    )
    assert deltas(events) == expected  # streamed word by word …
    assert len([e for e in events if isinstance(e, ThreadItemUpdatedEvent)]) > 10
    assert assistant_text(events) == expected  # … and finished whole, signed by the provider that answered
    final = next(e.item for e in events if isinstance(e, ThreadItemDoneEvent) and e.item.type == "assistant_message")
    source = final.content[0].annotations[0].source
    assert (source.id, source.label, source.description) == ("provider:offline", "offline", "offline-templates-v1")
    # persisted, in order: the marketer's message, the answer
    assert list(StudioItem.objects.filter(thread=thread).values_list("type", flat=True)) == [
        "user_message",
        "assistant_message",
    ]
    assert thread.title == "New conversation"  # a greeting names nothing


def test_threads_and_items_list_with_pagination_and_titles_from_the_conversation(
    chatkit_as, marketer, brand, worker_threads
):
    chatkit = chatkit_as(marketer)
    first = chatkit.stream(create("I want to promote our cold brew concentrate"))[0].thread.id
    events = chatkit.stream(add(first, "bold and bright"))
    assert "Which tone of voice" in assistant_text(events)
    second = chatkit.stream(create("hello"))[0].thread.id

    titled = [e for e in chatkit.stream(add(second, "Promote our oat milk latte")) if isinstance(e, ThreadUpdatedEvent)]
    assert [e.thread.title for e in titled] == ["Oat milk latte"]
    assert StudioThread.objects.get(pk=first).title == "Cold brew concentrate"

    status, page = chatkit.call(ThreadsListReq(params=ThreadListParams(limit=1)))
    assert status == 200
    assert [t["id"] for t in page["data"]] == [second] and page["has_more"] is True and page["after"] == second
    status, page = chatkit.call(ThreadsListReq(params=ThreadListParams(limit=1, after=page["after"])))
    assert [t["id"] for t in page["data"]] == [first] and page["has_more"] is False
    assert page["data"][0]["title"] == "Cold brew concentrate"

    status, items = chatkit.call(ItemsListReq(params=ItemsListParams(thread_id=first, limit=3, order="asc")))
    assert status == 200
    assert [i["type"] for i in items["data"]] == ["user_message", "assistant_message", "user_message"]
    assert items["data"][2]["content"][0]["text"] == "bold and bright" and items["has_more"] is True
    status, rest = chatkit.call(
        ItemsListReq(params=ItemsListParams(thread_id=first, limit=3, order="asc", after=items["after"]))
    )
    assert [i["type"] for i in rest["data"]] == ["assistant_message"] and rest["has_more"] is False
    assert "Which tone of voice" in rest["data"][0]["content"][0]["text"]

    status, thread = chatkit.call(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=first)))
    assert status == 200 and thread["title"] == "Cold brew concentrate" and len(thread["items"]["data"]) == 4


def test_switch_theme_is_a_client_tool_call_the_front_end_answers(chatkit_as, marketer, brand, worker_threads):
    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("hi"))[0].thread.id
    events = chatkit.stream(add(thread_id, "Switch the theme to dark please"))

    assert assistant_text(events) == (
        "Switching the page to dark mode. What would you like to promote? Tell me about the product or service."
    )
    call = [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, ClientToolCallItem)]
    assert len(call) == 1
    assert (call[0].name, call[0].arguments, call[0].status) == ("switch_theme", {"theme": "dark"}, "pending")
    assert UserPreference.objects.get(user=marketer).theme == "dark"  # remembered for every page
    assert StudioThread.objects.get(pk=thread_id).brief == {}  # not filed as a brief field

    answered = chatkit.stream(
        ThreadsAddClientToolOutputReq(
            params=ThreadAddClientToolOutputParams(thread_id=thread_id, result={"theme": "dark", "status": "applied"})
        )
    )
    assert [type(e) for e in answered] == [StreamOptionsEvent]  # nothing more to say, as the seed
    saved = StudioItem.objects.get(thread_id=thread_id, type="client_tool_call").data
    assert (saved["status"], saved["output"]) == ("completed", {"theme": "dark", "status": "applied"})
    # a second answer has no pending call to complete: refused before any stream starts
    status, body = chatkit.call(
        ThreadsAddClientToolOutputReq(params=ThreadAddClientToolOutputParams(thread_id=thread_id, result={}))
    )
    assert status == 409 and "no client tool call is waiting" in body["detail"]


def test_a_saved_asset_appears_in_assets_json(chatkit_as, marketer, brand, worker_threads, client):
    chatkit = chatkit_as(marketer)
    brief = (
        "Product: cold brew concentrate, style: bold and bright, tone: playful, "
        "pitch: cafe-strength coffee at home in ten seconds"
    )
    thread_id = chatkit.stream(create(brief))[0].thread.id  # a whole brief in one message
    thread = StudioThread.objects.get(pk=thread_id)
    assert thread.title == "Cold brew concentrate"
    image = chatkit.stream(add(thread_id, "Make an image of a glass of iced coffee"))  # before any concept
    assert "I'll attach it to the concept you save next." in assistant_text(image)
    pending = StudioThread.objects.get(pk=thread_id).pending_images
    assert len(pending) == 1 and Asset.objects.get(pk=pending[0]).deliverable is None

    events = chatkit.stream(add(thread_id, "yes"))
    text = assistant_text(events)
    assert "**Headline:** Cold brew concentrate: cafe-strength coffee at home in ten seconds" in text
    widgets = [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)]
    assert len(widgets) == 1
    deliverable = Deliverable.objects.get(run__studio_thread__pk=thread_id)
    card = json.loads(widgets[0].widget.model_dump_json(exclude_none=True))
    assert card["children"][0]["value"] == "Saved to your assets · draft for review"
    assert card["children"][4]["onClickAction"]["payload"]["url"] == f"/deliverables/{deliverable.pk}/"
    assert StudioThread.objects.get(pk=thread_id).pending_images == []
    assert Asset.objects.get(pk=pending[0]).deliverable == deliverable  # the pending image joined it

    # "change the headline": the same asset, a new revision
    chatkit.stream(add(thread_id, "Change the headline please"))
    deliverable.refresh_from_db()
    assert deliverable.version == 2 and Revision.objects.filter(deliverable=deliverable).count() == 2

    client.force_login(marketer)
    response = client.get("/assets", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    [record] = response.json()["assets"]
    current = Revision.objects.get(deliverable=deliverable, version=2).structured
    assert record == {
        "id": str(deliverable.pk),
        "product": "cold brew concentrate",
        "style": "bold and bright",
        "tone": "playful",
        "pitch": "cafe-strength coffee at home in ten seconds",
        "headline": current["headline"],
        "primaryText": current["primary_text"],
        "callToAction": current["call_to_action"],
        "imagePrompts": current["image_prompts"],
        "images": [f"/assets/{pending[0]}/file"],
        "createdAt": deliverable.created_at.isoformat(),
    }
    assert current["headline"] != "Cold brew concentrate: cafe-strength coffee at home in ten seconds"
    assert client.get("/assets", HTTP_ACCEPT="*/*").json()["assets"] == [record]  # fetch()'s default
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/assets", HTTP_ACCEPT=browser)  # a browser's navigation: the gallery page
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    client.logout()
    anonymous = client.get("/assets", HTTP_ACCEPT="application/json")
    assert (anonymous.status_code, anonymous.json()) == (
        401,
        {"detail": "Authentication credentials were not provided."},
    )
    assert client.get("/assets", HTTP_ACCEPT=browser).status_code == 302  # the page: to the log-in


def test_someone_elses_thread_is_not_found_and_nothing_changes(chatkit_as, marketer, outsider, brand, worker_threads):
    thread_id = chatkit_as(marketer).stream(create("hi"))[0].thread.id
    before = list(StudioItem.objects.values_list("item_id", flat=True))
    other = chatkit_as(outsider)
    for request in (
        add(thread_id, "hello"),
        ItemsListReq(params=ItemsListParams(thread_id=thread_id)),
        ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)),
    ):
        status, body = other.call(request)
        assert (status, body) == (404, {"detail": "Not found."})
    status, page = other.call(ThreadsListReq(params=ThreadListParams()))
    assert (status, page["data"]) == (200, [])
    assert list(StudioItem.objects.values_list("item_id", flat=True)) == before


def test_anonymous_is_401_and_bad_requests_are_400(chatkit_as, marketer, worker_threads):
    anonymous = chatkit_as(None)
    status, body = anonymous.call(create("hi"))
    assert status == 401 and body == {"detail": "Authentication credentials were not provided."}
    wrong = chatkit_as(marketer)
    wrong.headers = {"Authorization": "Token not-a-token"}
    assert wrong.call(create("hi"))[0] == 401
    chatkit = chatkit_as(marketer)
    status, body = chatkit.call('{"type": "threads.nope", "params": {}}')
    assert status == 400 and body["detail"] == "This is not a ChatKit request."
    status, body = chatkit.call("[[[[")
    assert status == 400
    status, body = chatkit.call(create(" "))
    assert (status, body["detail"]) == (400, "Write a message first.")
    status, body = chatkit.call(create("x" * 4001))
    assert status == 400 and "too long" in body["detail"]
    assert StudioThread.objects.count() == 0


def test_a_user_of_no_brand_cannot_start_a_thread(chatkit_as, brand):
    from brands.tests.factories import UserFactory

    loner = UserFactory(username="loner")
    status, body = chatkit_as(loner).call(create("hi"))
    assert (status, body["detail"]) == (400, "You are not a member of any brand: a conversation belongs to one.")
    status, body = chatkit_as(loner).call(
        ThreadsCreateReq(params=ThreadCreateParams(input=said("hi")), metadata={"brand": "acme"})
    )
    assert (status, body["detail"]) == (404, "No brand of yours has this slug.")
    assert StudioThread.objects.count() == 0


def test_the_finished_answer_survives_a_dropped_stream(chatkit_as, marketer, brand, worker_threads, studio_redis):
    """The reader goes away: the worker still saves the whole answer, and a reconnect (studio.resume) while it is
    in flight replays it from its first event."""
    from chatkit.types import ThreadCustomActionParams, ThreadsCustomActionReq

    from creatives.studio.relay import stream_key

    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("hi"))[0].thread.id
    thread = StudioThread.objects.get(pk=thread_id)
    # A reply in flight whose first reader vanished: its stream holds the events so far.
    from creatives.studio.relay import ReplyPublisher

    StudioThread.objects.filter(pk=thread_id).update(reply_key="k1")
    publisher = ReplyPublisher("k1")
    item = AssistantMessageItem(id="msg_resume", thread_id=thread_id, created_at=thread.created_at, content=[])
    publisher.event(ThreadItemAddedEvent(item=item))
    done = item.model_copy(update={"content": [AssistantMessageContent(text="The whole answer.")]})
    item_save(thread, done)  # as the worker does: saved, then announced
    publisher.event(ThreadItemDoneEvent(item=done))
    publisher.end()
    replay = chatkit.stream(
        ThreadsCustomActionReq(
            params=ThreadCustomActionParams(thread_id=thread_id, action={"type": "studio.resume", "payload": {}})
        )
    )
    assert [type(e) for e in replay] == [StreamOptionsEvent, ThreadItemAddedEvent, ThreadItemDoneEvent]
    assert replay[2].item.content[0].text == "The whole answer."
    saved = StudioItem.objects.get(thread_id=thread_id, item_id="msg_resume")  # the worker's row, written once
    assert saved.data["content"][0]["text"] == "The whole answer."
    assert studio_redis.exists(stream_key("k1"))
    # Nothing in flight: resuming answers nothing (the saved items are the conversation).
    StudioThread.objects.filter(pk=thread_id).update(reply_key="")
    assert [
        type(e)
        for e in chatkit.stream(
            ThreadsCustomActionReq(
                params=ThreadCustomActionParams(thread_id=thread_id, action={"type": "studio.resume", "payload": {}})
            )
        )
    ] == [StreamOptionsEvent]


def test_a_provider_failure_is_an_error_event_and_nothing_partial_is_saved(
    chatkit_as, marketer, brand, worker_threads, openai_only
):
    openai_only.enqueue("openai", *[Reply(status=500)] * 10)
    chatkit = chatkit_as(marketer)
    events = chatkit.stream(create("hi"))
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and errors[0].allow_retry is True
    assert "No provider could answer (tried: openai)" in errors[0].message
    thread_id = events[0].thread.id
    assert list(StudioItem.objects.filter(thread_id=thread_id).values_list("type", flat=True)) == ["user_message"]
    assert StudioThread.objects.get(pk=thread_id).reply_key == ""  # the thread is free for the next message


def test_answers_past_the_users_stream_cap_are_refused_with_429(chatkit_as, marketer, brand, worker_threads, settings):
    settings.AICMO_MAX_CONCURRENT_STREAMS = 0  # every slot taken

    status, body = chatkit_as(marketer).call(create("hi"))

    assert status == 429
    assert body["detail"].startswith("Too many open")
    assert StudioThread.objects.count() == 0


def test_requests_are_parsed_without_building_a_parser_each(chatkit_as, marketer, brand, worker_threads, monkeypatch):
    import chatkit.server

    def built(*args, **kwargs):  # the library's process() builds one per request (about 18 ms of CPU)
        raise AssertionError("a request parser was built for a request")

    monkeypatch.setattr(chatkit.server, "TypeAdapter", built)
    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("hi"))[0].thread.id
    status, page = chatkit.call(ThreadsListReq(params=ThreadListParams(limit=5)))
    assert status == 200 and [t["id"] for t in page["data"]] == [thread_id]
