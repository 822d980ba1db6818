"""Client review links: managers send, clients decide once without an account, dead links answer 410."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from deliverables.models import AuditAction, AuditEvent, Deliverable, Notification, ReviewLink
from deliverables.services import deliverable_amend
from deliverables.services.review_links import review_links_sweep, token_hash

from .review_helpers import generate_campaign, of_kind, set_status, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"], deliverables=["social_posts"])
    return set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)


def send(api, post, **body):
    return api.post(f"/api/v1/deliverables/{post.pk}/review-links", body, format="json")


def token_of(response) -> str:
    return response.json()["url"].rstrip("/").rsplit("/", 1)[1]


def test_a_manager_creates_a_link_and_only_its_hash_is_stored(manager_api, manager, post):
    before = timezone.now()
    response = send(manager_api, post, expires_in_hours=48)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "expires_at"}
    token = token_of(response)
    assert body["url"] == f"http://testserver/r/{token}/"
    link = ReviewLink.objects.get(pk=body["id"])
    assert link.token_hash == token_hash(token) and token not in link.token_hash
    assert link.version == 1 and link.created_by == manager
    assert timedelta(hours=47, minutes=59) < link.expires_at - before < timedelta(hours=48, minutes=1)
    event = AuditEvent.objects.get(action=AuditAction.REVIEW_LINK_SENT)
    assert (event.actor, event.deliverable_id, event.revision) == (manager, post.pk, 1)


def test_default_expiry_is_72_hours_and_over_720_is_refused(manager_api, post):
    link = ReviewLink.objects.get(pk=send(manager_api, post).json()["id"])
    assert round((link.expires_at - link.created_at).total_seconds() / 3600) == 72
    response = send(manager_api, post, expires_in_hours=721)
    assert response.status_code == 400 and "expires_in_hours" in response.json()
    assert ReviewLink.objects.count() == 1


def test_a_marketer_cannot_create_a_link_and_an_outsider_gets_404(marketer_api, outsider_api, post):
    before = snapshot(post)
    assert send(marketer_api, post).status_code == 403
    assert send(outsider_api, post).status_code == 404
    assert not ReviewLink.objects.exists() and snapshot(post) == before


def test_a_client_without_an_account_requests_changes_once(
    manager_api, marketer, manager, post, django_capture_on_commit_callbacks
):
    token = token_of(send(manager_api, post))
    client = Client()

    page = client.get(f"/r/{token}/")
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin" and page["Cache-Control"] == "no-store"
    assert post.revisions.get(version=1).title in page.content.decode()

    refused = client.post(f"/r/{token}/", {"decision": "changes_requested", "name": "Dana", "comment": ""})
    assert refused.status_code == 400 and "Say what should change." in refused.content.decode()
    assert Deliverable.objects.get(pk=post.pk).status == "in_review"

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/r/{token}/", {"decision": "changes_requested", "name": "Dana Client", "comment": "Mention the sale."}
        )
    assert done.status_code == 200 and "Thank you, Dana Client" in done.content.decode()
    assert Deliverable.objects.get(pk=post.pk).status == "changes_requested"
    link = ReviewLink.objects.get()
    assert (link.decision, link.reviewer_name, link.comment) == (
        "changes_requested",
        "Dana Client",
        "Mention the sale.",
    )
    event = AuditEvent.objects.get(action=AuditAction.CLIENT_CHANGES_REQUESTED)
    assert (event.actor, event.from_status, event.to_status, event.revision, event.comment) == (
        None,
        "in_review",
        "changes_requested",
        1,
        "Mention the sale.",
    )
    assert event.data["reviewer_name"] == "Dana Client"
    notified = set(Notification.objects.filter(kind="client_decision").values_list("user__username", flat=True))
    assert notified == {"marketer", "manager"}
    assert sorted(m.to[0] for m in mail.outbox) == ["manager@example.com", "marketer@example.com"]
    assert "Client Dana Client requested changes to" in mail.outbox[0].subject
    assert "/inbox/unsubscribe/" in mail.outbox[0].body

    # Used: a second decision answers 410 and changes nothing.
    before = snapshot(post)
    again = client.post(f"/r/{token}/", {"decision": "approved", "name": "Dana", "comment": ""})
    assert again.status_code == 410 and "has been used" in again.content.decode()
    assert client.get(f"/r/{token}/").status_code == 410
    assert snapshot(post) == before and ReviewLink.objects.get().decision == "changes_requested"


def test_an_expired_link_answers_410_and_changes_nothing(manager_api, post):
    token = token_of(send(manager_api, post))
    ReviewLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot(post)
    response = Client().post(f"/r/{token}/", {"decision": "approved", "name": "Dana"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert snapshot(post) == before and ReviewLink.objects.get().decided_at is None


def test_a_revoked_link_answers_410(manager_api, marketer_api, post):
    response = send(manager_api, post)
    token, link_id = token_of(response), response.json()["id"]
    assert marketer_api.delete(f"/api/v1/review-links/{link_id}").status_code == 403
    assert Client().get(f"/r/{token}/").status_code == 200

    revoked = manager_api.delete(f"/api/v1/review-links/{link_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    before = snapshot(post)
    answer = Client().post(f"/r/{token}/", {"decision": "approved", "name": "Dana"})
    assert answer.status_code == 410 and "withdrawn" in answer.content.decode()
    assert snapshot(post) == before
    assert AuditEvent.objects.filter(action=AuditAction.REVIEW_LINK_REVOKED).count() == 1


def test_an_edit_after_sending_invalidates_the_link(manager_api, marketer, post):
    token = token_of(send(manager_api, post))
    set_status(post, Deliverable.Status.DRAFT)
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="New text for LinkedIn.")
    before = snapshot(post)
    response = Client().post(f"/r/{token}/", {"decision": "approved", "name": "Dana"})
    assert response.status_code == 410 and "changed since this link was sent" in response.content.decode()
    assert snapshot(post) == before


def test_an_unknown_token_is_404(db):
    assert Client().get("/r/not-a-token/").status_code == 404


def test_a_client_approval_is_recorded_and_tells_the_managers(manager_api, post):
    token = token_of(send(manager_api, post))
    Client().post(f"/r/{token}/", {"decision": "approved", "name": "Dana", "comment": "Lovely"})
    assert Deliverable.objects.get(pk=post.pk).status == "in_review"  # the manager still approves
    assert AuditEvent.objects.filter(action=AuditAction.CLIENT_APPROVED, comment="Lovely").count() == 1
    assert list(Notification.objects.filter(kind="client_decision").values_list("user__username", flat=True)) == [
        "manager"
    ]


def test_beat_reminds_before_expiry_and_notices_expiry_once(manager_api, manager, post):
    send(manager_api, post)
    link = ReviewLink.objects.get()
    now = timezone.now()
    assert review_links_sweep(now=now) == {"reminded": 0, "expired": 0}
    assert review_links_sweep(now=link.expires_at - timedelta(hours=2)) == {"reminded": 1, "expired": 0}
    assert review_links_sweep(now=link.expires_at - timedelta(hours=1)) == {"reminded": 0, "expired": 0}
    assert review_links_sweep(now=link.expires_at + timedelta(minutes=1)) == {"reminded": 0, "expired": 1}
    assert review_links_sweep(now=link.expires_at + timedelta(minutes=2)) == {"reminded": 0, "expired": 0}
    assert Notification.objects.filter(user=manager, kind="review_link_reminder").count() == 2
