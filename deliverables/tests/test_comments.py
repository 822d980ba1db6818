"""Comments: members comment (Markdown, sanitised), @mentions of brand members notify, outsiders get 404."""

import pytest
from django.core import mail

from deliverables.models import Comment, Notification

from .review_helpers import generate_campaign, of_kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"], deliverables=["social_posts"])
    return of_kind(run, "linkedin_post")


def url(post):
    return f"/api/v1/deliverables/{post.pk}/comments"


def test_a_comment_is_sanitised_bound_to_the_revision_and_mentions_notify(
    marketer_api, manager, outsider, post, django_capture_on_commit_callbacks
):
    body = "Please check **the CTA**, @manager. <script>alert(1)</script> (not @outsider, not @nobody)"
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_api.post(url(post), {"body": body}, format="json")

    assert response.status_code == 201
    data = response.json()
    assert (data["author"], data["version"], data["mentions"]) == ("marketer", 1, ["manager"])
    assert "<strong>the CTA</strong>" in data["body_html"] and "<script>" not in data["body_html"]
    notes = list(Notification.objects.values_list("user__username", "kind"))
    assert notes == [("manager", "mention")]
    assert [m.to for m in mail.outbox] == [["manager@example.com"]]
    listed = marketer_api.get(url(post)).json()
    assert [c["id"] for c in listed] == [data["id"]]


def test_blank_comments_are_refused_and_outsiders_get_404(marketer_api, outsider_api, post):
    response = marketer_api.post(url(post), {"body": "   "}, format="json")
    assert response.status_code == 400 and "body" in response.json()
    assert outsider_api.get(url(post)).status_code == 404
    assert outsider_api.post(url(post), {"body": "hi"}, format="json").status_code == 404
    assert not Comment.objects.exists()


def test_the_page_shows_comments_beside_their_revision(marketer_client, marketer, post):
    from deliverables.services import deliverable_amend

    marketer_client.post(f"/deliverables/{post.pk}/comments", {"body": "First *thought*"})
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="Better text for LinkedIn.")
    marketer_client.post(f"/deliverables/{post.pk}/comments", {"body": "On the new one"})

    html = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()
    assert '<span class="chip">v1 · earlier version</span>' in html
    assert '<span class="chip">v2</span>' in html
    assert "<em>thought</em>" in html

    empty = marketer_client.post(f"/deliverables/{post.pk}/comments", {"body": ""})
    assert empty.status_code == 302 and empty["Location"] == f"/deliverables/{post.pk}/#comments"
    assert Comment.objects.count() == 2


def test_a_manager_creates_a_review_link_on_the_page_and_a_marketer_cannot(manager_client, marketer_client, post):
    response = manager_client.post(f"/deliverables/{post.pk}/review-link", {"expires_in_hours": "24"})
    assert response.status_code == 201
    assert "data-review-url" in response.content.decode() and "http://testserver/r/" in response.content.decode()
    assert marketer_client.post(f"/deliverables/{post.pk}/review-link").status_code == 403
    assert "Client review" not in marketer_client.get(f"/deliverables/{post.pk}/").content.decode()
