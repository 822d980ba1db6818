"""The studio's pages and endpoints: who sees what, posting, retrying, refusals."""

import pytest
from django.test import Client

from creatives.models import StudioMessage, StudioThread
from deliverables.models import Deliverable

pytestmark = pytest.mark.django_db


def fetch_post(client: Client, url: str, data=None):
    return client.post(url, data or {}, HTTP_X_REQUESTED_WITH="fetch")


def test_the_studio_page_shows_the_latest_thread_with_its_messages_and_assets(marketer_client, thread, say):
    for text in ("hi", "cold brew", "bold", "playful", "fast", "yes"):
        say(thread, text)

    response = marketer_client.get("/studio/")

    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["thread"] == thread
    assert [m.content for m in response.context["messages"]][:2] == [
        "hi",
        "Hi! I'm your ad-concept assistant for Acme Coffee Roasters. What would you like to promote? Tell me "
        "about the product or service.",
    ]
    [asset] = response.context["assets"]
    assert asset == Deliverable.objects.get()
    assert f'href="/deliverables/{asset.pk}/">Cold brew: fast</a>' in page
    assert 'src="/static/js/studio.js"' in page and "<script>" not in page  # no inline script (strict CSP)
    assert ' style="' not in page and " onclick=" not in page


def test_a_marketer_without_threads_sees_how_to_start(marketer_client):
    response = marketer_client.get("/studio/")

    assert response.status_code == 200
    assert response.context["thread"] is None
    assert "Start a conversation" in response.content.decode()


def test_new_conversation_for_a_brand_of_the_user(marketer_client, marketer, brand, other_brand):
    response = marketer_client.post("/studio/threads/", {"brand": "acme"})

    thread = StudioThread.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/studio/{thread.pk}/"
    assert (thread.user, thread.brand, thread.title) == (marketer, brand, "New conversation")
    assert marketer_client.post("/studio/threads/", {"brand": "globex"}).status_code == 404
    assert StudioThread.objects.count() == 1


def test_posting_a_message_answers_the_reply_to_stream(
    marketer_client, thread, replies_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = fetch_post(marketer_client, f"/studio/{thread.pk}/messages", {"text": "  hi  "})

    assert response.status_code == 201
    question, reply = StudioMessage.objects.order_by("pk")
    assert response.json() == {
        "question": {"id": question.pk, "content": "hi"},
        "reply": {
            "id": reply.pk,
            "status": "pending",
            "stream_url": f"/studio/messages/{reply.pk}/stream",
            "retry_url": f"/studio/messages/{reply.pk}/retry",
        },
    }
    reply.refresh_from_db()
    assert reply.status == "complete"  # the task ran after the commit


def test_blank_and_concurrent_messages_are_refused_without_changes(marketer_client, thread):
    blank = fetch_post(marketer_client, f"/studio/{thread.pk}/messages", {"text": "   "})
    assert blank.status_code == 400
    assert blank.json() == {
        "detail": "Write a message first.",
        "code": "invalid",
        "details": {"text": ["This field may not be blank."]},
    }
    StudioMessage.objects.create(thread=thread, role="assistant", status="streaming")

    busy = fetch_post(marketer_client, f"/studio/{thread.pk}/messages", {"text": "hello?"})

    assert busy.status_code == 409
    assert busy.json()["detail"] == ("The assistant is still answering: wait for the reply (or retry it if it failed).")
    assert StudioMessage.objects.filter(role="user").count() == 0


def test_a_reply_abandoned_by_its_worker_does_not_block_the_thread(marketer_client, thread, settings):
    settings.AICMO_RUN_STUCK_AFTER_S = 0
    stale = StudioMessage.objects.create(thread=thread, role="assistant", status="streaming", attempt=1)

    response = fetch_post(marketer_client, f"/studio/{thread.pk}/messages", {"text": "hello again"})

    assert response.status_code == 201
    stale.refresh_from_db()
    assert (stale.status, stale.error["type"]) == ("failed", "INTERNAL_ERROR")


def test_someone_elses_thread_is_not_found(client, outsider, manager, thread):
    for user in (outsider, manager):
        client.force_login(user)
        assert client.get(f"/studio/{thread.pk}/").status_code == 404
        assert fetch_post(client, f"/studio/{thread.pk}/messages", {"text": "hi"}).status_code == 404
        assert client.get(f"/studio/{thread.pk}/assets").status_code == 404
    assert not StudioMessage.objects.exists()


NO_ROLE = "Your role does not allow asking the studio assistant (it spends the brand's AI budget)."


def test_anonymous_visitors_are_sent_to_log_in(client, thread):
    response = client.get("/studio/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/studio/")


def test_only_a_failed_reply_can_be_retried(
    marketer_client, thread, replies_inline, django_capture_on_commit_callbacks
):
    StudioMessage.objects.create(thread=thread, role="user", content="hi")
    done = StudioMessage.objects.create(thread=thread, role="assistant", status="complete", content="Hello")

    refused = fetch_post(marketer_client, f"/studio/messages/{done.pk}/retry")

    assert refused.status_code == 409
    StudioMessage.objects.filter(pk=done.pk).update(
        status="failed", content="", error={"type": "TIMEOUT", "message": "Timed out."}
    )
    with django_capture_on_commit_callbacks(execute=True):
        retried = fetch_post(marketer_client, f"/studio/messages/{done.pk}/retry")
    assert retried.status_code == 200
    assert retried.json()["reply"]["stream_url"] == f"/studio/messages/{done.pk}/stream"
    done.refresh_from_db()
    assert (done.status, done.error) == ("complete", None)
    assert done.content.startswith("Hi! I'm your ad-concept assistant")


def test_the_asset_fragment_lists_the_threads_saved_concepts(marketer_client, thread, say):
    for text in ("hi", "cold brew", "bold", "playful", "fast", "yes"):
        say(thread, text)

    response = marketer_client.get(f"/studio/{thread.pk}/assets")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved assets" in html and "Cold brew: fast" in html and "Shop now" in html
    assert 'class="badge badge-draft"' in html
