"""Form errors stay on the page they came from: an invalid post re-renders the page with its errors (and tells
the browser to put the address bar back on that page), or goes back to it with a message; the action URL a
form posts to never answers an empty 405 — opened without a POST, it sends the browser to the form's page."""

import pytest

from deliverables.models import AuditEvent, Comment, Deliverable, ReviewLink, RunReviewLink

from .review_helpers import generate_campaign, of_kind, set_status, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(marketer, run_tasks_inline):
    return generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])


@pytest.fixture
def post(run):
    return set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)


def page_url_of(html: str) -> str | None:
    marker = 'data-page-url="'
    return html.split(marker, 1)[1].split('"', 1)[0] if marker in html else None


def test_a_reject_without_a_comment_shows_the_error_on_the_deliverable_page(manager_client, post):
    before = snapshot(post)
    page = f"/deliverables/{post.pk}/"

    refused = manager_client.post(f"/deliverables/{post.pk}/reject", {"comment": ""})

    html = refused.content.decode()
    assert refused.status_code == 400
    assert "This field is required to reject." in html and 'id="id_comment_error"' in html
    assert ">Request changes<" in html  # the whole deliverable page, its review form included
    assert page_url_of(html) == page  # app.js puts the address bar back on the deliverable page
    assert snapshot(post) == before
    # the action URL opened without a POST (a reload of the address bar, a pasted link): the page, not a 405
    reopened = manager_client.get(f"/deliverables/{post.pk}/reject", follow=True)
    assert reopened.redirect_chain == [(page, 302)] and reopened.status_code == 200
    assert reopened.content.decode().count("<h1") >= 1 and snapshot(post) == before


def test_the_deliverable_page_itself_does_not_rewrite_the_address_bar(manager_client, post):
    assert page_url_of(manager_client.get(f"/deliverables/{post.pk}/").content.decode()) is None


def test_a_refused_approve_and_an_invalid_amend_stay_on_the_deliverable_page(
    manager_client, marketer_client, post, run
):
    before = snapshot(post)
    page = f"/deliverables/{post.pk}/"
    too_long = manager_client.post(f"/deliverables/{post.pk}/approve", {"comment": "x" * 2001})
    assert too_long.status_code == 400 and page_url_of(too_long.content.decode()) == page
    forbidden = marketer_client.post(f"/deliverables/{post.pk}/approve", {"comment": "lgtm"})
    assert forbidden.status_code == 403 and page_url_of(forbidden.content.decode()) == page
    assert snapshot(post) == before

    draft = set_status(of_kind(run, "email_copy"), Deliverable.Status.DRAFT)
    before = snapshot(draft)
    empty = marketer_client.post(f"/deliverables/{draft.pk}/amend", {"version": 1, "content_markdown": "  "})
    html = empty.content.decode()
    assert empty.status_code == 400 and page_url_of(html) == f"/deliverables/{draft.pk}/"
    assert "field-errors" in html and snapshot(draft) == before
    assert marketer_client.get(f"/deliverables/{draft.pk}/amend")["Location"] == f"/deliverables/{draft.pk}/"


def test_an_empty_comment_goes_back_to_the_deliverable_page_with_the_message(marketer_client, post):
    response = marketer_client.post(f"/deliverables/{post.pk}/comments", {"body": "   "}, follow=True)
    assert response.redirect_chain == [(f"/deliverables/{post.pk}/#comments", 302)]
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages and not Comment.objects.exists()


def test_an_invalid_review_link_validity_goes_back_with_a_message(manager_client, post, run):
    bad = manager_client.post(f"/deliverables/{post.pk}/review-link", {"expires_in_hours": "abc"}, follow=True)
    assert bad.redirect_chain == [(f"/deliverables/{post.pk}/", 302)]
    assert "whole number of hours" in bad.content.decode() and not ReviewLink.objects.exists()
    too_long = manager_client.post(f"/runs/{run.run_id}/review-link", {"expires_in_hours": "0"}, follow=True)
    assert too_long.redirect_chain == [(f"/runs/{run.run_id}/", 302)]
    assert "between 1 and 720" in too_long.content.decode() and not RunReviewLink.objects.exists()


def test_bulk_review_without_a_comment_goes_back_to_the_queue_with_the_message(manager_client, post):
    before, events = snapshot(post), AuditEvent.objects.count()
    response = manager_client.post("/approvals/bulk", {"action": "reject", "ids": [str(post.pk)]}, follow=True)
    assert response.redirect_chain == [("/approvals/", 302)]
    assert "a comment is required to request changes" in response.content.decode()
    assert snapshot(post) == before and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("action", "page"),
    [
        ("/deliverables/{d}/submit", "/deliverables/{d}/"),
        ("/deliverables/{d}/approve", "/deliverables/{d}/"),
        ("/deliverables/{d}/amend", "/deliverables/{d}/"),
        ("/deliverables/{d}/rewrite", "/deliverables/{d}/"),
        ("/deliverables/{d}/preview", "/deliverables/{d}/"),
        ("/deliverables/{d}/comments", "/deliverables/{d}/"),
        ("/deliverables/{d}/review-link", "/deliverables/{d}/"),
        ("/runs/{r}/retry", "/runs/{r}/"),
        ("/runs/{r}/review-link", "/runs/{r}/"),
        ("/approvals/bulk", "/approvals/"),
        ("/inbox/read", "/inbox/"),
        ("/inbox/email", "/inbox/"),
        ("/preferences/theme", "/"),
    ],
)
def test_no_form_action_url_answers_an_empty_405(manager_client, post, run, action, page):
    ids = {"d": post.pk, "r": run.run_id}
    before = snapshot(post)
    response = manager_client.get(action.format(**ids))
    assert (response.status_code, response["Location"]) == (302, page.format(**ids))
    assert snapshot(post) == before
