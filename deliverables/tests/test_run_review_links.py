"""Whole-run client review links: one expiring, revocable link per run; the client decides each deliverable (or
all at once), each decision bound to the revision shown; dead links and reused decisions answer 410."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from deliverables.models import AuditAction, AuditEvent, Deliverable, Notification, ReviewLink, RunReviewLink
from deliverables.services import deliverable_amend
from deliverables.services.review_links import review_links_sweep, token_hash

from .review_helpers import generate_campaign, of_kind, set_status, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(marketer, run_tasks_inline):
    run = generate_campaign(
        marketer, run_tasks_inline, platforms=["linkedin"], deliverables=["social_posts", "email_copy"]
    )
    run.deliverables.update(status=Deliverable.Status.IN_REVIEW)
    return run


def send(api, run, **body):
    return api.post(f"/api/v1/runs/{run.run_id}/review-links", body, format="json")


def token_of(response) -> str:
    return response.json()["url"].rstrip("/").rsplit("/", 1)[1]


def states(run) -> dict:
    return {d.kind: d.status for d in run.deliverables.all()}


def run_snapshot(run) -> list:
    return [snapshot(d) for d in run.deliverables.order_by("position")]


def test_a_manager_sends_the_whole_run_and_only_the_hash_is_stored(manager_api, manager, run):
    before = timezone.now()
    response = send(manager_api, run, expires_in_hours=24)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "expires_at"}
    token = token_of(response)
    assert body["url"] == f"http://testserver/r/{token}/"
    link = RunReviewLink.objects.get(pk=body["id"])
    assert link.token_hash == token_hash(token) and link.run == run and link.created_by == manager
    assert timedelta(hours=23, minutes=59) < link.expires_at - before < timedelta(hours=24, minutes=1)
    deliverables = list(run.deliverables.order_by("position"))
    items = {item.deliverable_id: item for item in link.items.all()}
    assert set(items) == {d.pk for d in deliverables} and len(deliverables) >= 2
    assert all(item.token_hash is None and item.version == 1 for item in items.values())
    sent = AuditEvent.objects.filter(action=AuditAction.REVIEW_LINK_SENT)
    assert sent.count() == len(deliverables)
    assert {e.data["run_review_link"] for e in sent} == {str(link.pk)} and {e.actor for e in sent} == {manager}


def test_refusals_marketer_outsider_bad_hours(manager_api, marketer_api, outsider_api, run):
    assert send(marketer_api, run).status_code == 403
    assert send(outsider_api, run).status_code == 404
    too_long = send(manager_api, run, expires_in_hours=721)
    assert too_long.status_code == 400 and "expires_in_hours" in too_long.json()
    assert not RunReviewLink.objects.exists() and not ReviewLink.objects.exists()
    assert Client().post(f"/api/v1/runs/{run.run_id}/review-links").status_code == 401


def test_the_client_decides_one_then_the_rest_at_once(manager_api, run, django_capture_on_commit_callbacks):
    token = token_of(send(manager_api, run))
    client = Client()
    post, email = of_kind(run, "linkedin_post"), of_kind(run, "email_copy")

    page = client.get(f"/r/{token}/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    for deliverable in run.deliverables.all():
        assert deliverable.revisions.get(version=1).title in html
    assert "Approve all" in html

    refused = client.post(
        f"/r/{token}/", {"deliverable": str(post.pk), "decision": "changes_requested", "name": "Dana", "comment": ""}
    )
    assert refused.status_code == 400 and "Say what should change." in refused.content.decode()
    assert not ReviewLink.objects.exclude(decided_at=None).exists()

    with django_capture_on_commit_callbacks(execute=True):
        one = client.post(
            f"/r/{token}/",
            {"deliverable": str(post.pk), "decision": "changes_requested", "name": "Dana", "comment": "Shorter."},
        )
    assert one.status_code == 200 and "your decision on" in one.content.decode()
    assert Deliverable.objects.get(pk=post.pk).status == "changes_requested"
    event = AuditEvent.objects.get(action=AuditAction.CLIENT_CHANGES_REQUESTED)
    assert (event.deliverable_id, event.revision, event.comment, event.data["reviewer_name"]) == (
        post.pk,
        1,
        "Shorter.",
        "Dana",
    )
    assert Notification.objects.filter(kind="client_decision", deliverable=post).count() == 2  # marketer + manager
    assert any("requested changes to" in m.subject for m in mail.outbox)

    # Reused: the same deliverable again answers 410 and changes nothing.
    before = run_snapshot(run)
    again = client.post(f"/r/{token}/", {"deliverable": str(post.pk), "decision": "approved", "name": "Dana"})
    assert again.status_code == 410 and "already recorded" in again.content.decode()
    assert run_snapshot(run) == before

    with django_capture_on_commit_callbacks(execute=True):
        rest = client.post(f"/r/{token}/", {"deliverable": "all", "decision": "approved", "name": "Dana"})
    assert rest.status_code == 200 and "Thank you, Dana" in rest.content.decode()
    items = ReviewLink.objects.filter(run_link__isnull=False)
    assert items.filter(decision="approved").count() == run.deliverables.count() - 1
    assert items.get(deliverable=post).decision == "changes_requested"  # "all" meant all still open
    assert Deliverable.objects.get(pk=email.pk).status == "in_review"  # the manager still approves
    assert AuditEvent.objects.filter(action=AuditAction.CLIENT_APPROVED).count() == run.deliverables.count() - 1

    # Every part decided: the link is used.
    before = run_snapshot(run)
    used = client.post(
        f"/r/{token}/", {"deliverable": "all", "decision": "changes_requested", "name": "X", "comment": "y"}
    )
    assert used.status_code == 410 and "has been used" in used.content.decode()
    assert client.get(f"/r/{token}/").status_code == 410
    assert run_snapshot(run) == before


def test_an_edit_after_sending_voids_only_that_deliverables_decision(manager_api, marketer, run):
    token = token_of(send(manager_api, run))
    post = of_kind(run, "linkedin_post")
    set_status(post, Deliverable.Status.DRAFT)
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="New text for LinkedIn.")
    client = Client()

    page = client.get(f"/r/{token}/")
    assert page.status_code == 200 and "changed this text since the link was sent" in page.content.decode()
    before = run_snapshot(run)
    refused = client.post(f"/r/{token}/", {"deliverable": str(post.pk), "decision": "approved", "name": "Dana"})
    assert refused.status_code == 410 and "changed since the link was sent" in refused.content.decode()
    assert run_snapshot(run) == before

    done = client.post(f"/r/{token}/", {"decision": "approved", "name": "Dana"})  # all at once skips the edited one
    assert done.status_code == 200
    item = ReviewLink.objects.get(run_link__isnull=False, deliverable=post)
    assert item.decided_at is None
    assert ReviewLink.objects.filter(run_link__isnull=False).exclude(decided_at=None).count() == (
        run.deliverables.count() - 1
    )


def test_expired_and_revoked_run_links_answer_410_and_change_nothing(manager_api, marketer_api, run):
    response = send(manager_api, run)
    token, link_id = token_of(response), response.json()["id"]
    assert marketer_api.delete(f"/api/v1/review-links/{link_id}").status_code == 403
    RunReviewLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    ReviewLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = run_snapshot(run)
    expired = Client().post(f"/r/{token}/", {"decision": "approved", "name": "Dana"})
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert run_snapshot(run) == before

    token2 = token_of(send(manager_api, run))
    link2 = RunReviewLink.objects.get(token_hash=token_hash(token2))
    revoked = manager_api.delete(f"/api/v1/review-links/{link2.pk}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert link2.items.filter(revoked_at=None).count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.REVIEW_LINK_REVOKED).count() == run.deliverables.count()
    before = run_snapshot(run)
    answer = Client().post(f"/r/{token2}/", {"decision": "approved", "name": "Dana"})
    assert answer.status_code == 410 and "withdrawn" in answer.content.decode()
    assert run_snapshot(run) == before and states(run) == {d.kind: "in_review" for d in run.deliverables.all()}


def test_a_deliverable_of_another_run_is_refused(manager_api, marketer, run, run_tasks_inline):
    token = token_of(send(manager_api, run))
    other = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"], deliverables=["email_copy"])
    foreign = other.deliverables.first()
    response = Client().post(f"/r/{token}/", {"deliverable": str(foreign.pk), "decision": "approved", "name": "D"})
    assert response.status_code == 400 and "not part of this review" in response.content.decode()
    assert not ReviewLink.objects.exclude(decided_at=None).exists()


def test_beat_reminds_and_notices_expiry_of_a_run_link_once(manager_api, manager, run):
    send(manager_api, run)
    link = RunReviewLink.objects.get()
    assert review_links_sweep(now=timezone.now()) == {"reminded": 0, "expired": 0}
    assert review_links_sweep(now=link.expires_at - timedelta(hours=2)) == {"reminded": 1, "expired": 0}
    assert review_links_sweep(now=link.expires_at - timedelta(hours=1)) == {"reminded": 0, "expired": 0}
    assert review_links_sweep(now=link.expires_at + timedelta(minutes=1)) == {"reminded": 0, "expired": 1}
    assert review_links_sweep(now=link.expires_at + timedelta(minutes=2)) == {"reminded": 0, "expired": 0}


def test_the_run_page_button_is_for_managers_only(manager_client, marketer_client, run):
    url = f"/runs/{run.run_id}/"
    assert "Send run for client review" in manager_client.get(url).content.decode()
    marketer_page = marketer_client.get(url).content.decode()
    assert "Send run for client review" not in marketer_page and "review-link" not in marketer_page

    created = manager_client.post(f"/runs/{run.run_id}/review-link", {"expires_in_hours": "12"})
    assert created.status_code == 201 and "data-review-url" in created.content.decode()
    assert RunReviewLink.objects.count() == 1

    assert marketer_client.post(f"/runs/{run.run_id}/review-link").status_code == 403
    bad = manager_client.post(f"/runs/{run.run_id}/review-link", {"expires_in_hours": "9999"}, follow=True)
    assert bad.redirect_chain[-1][0] == url and "between 1 and 720" in bad.content.decode()
    assert RunReviewLink.objects.count() == 1
