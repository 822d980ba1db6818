"""The inbox: reviews to do, changes requested of my work, notifications; the count in the navigation;
email per event, unsubscribable."""

import re

import pytest
from django.core import mail
from django.test import Client

from deliverables.models import Deliverable, NotificationSettings
from deliverables.services import deliverable_reject, deliverable_submit

from .review_helpers import generate_campaign, of_kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"], deliverables=["social_posts"])
    return of_kind(run, "linkedin_post")


def nav_count(client) -> str | None:
    match = re.search(r'<span class="count-badge" aria-label="(\d+) waiting">', client.get("/").content.decode())
    return match and match.group(1)


def test_submit_and_reject_reach_the_inbox_and_email(
    marketer, manager, marketer_client, manager_client, post, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_submit(deliverable=post, actor=marketer)
    assert [m.to for m in mail.outbox] == [["manager@example.com"]]
    assert "marketer asks you to review" in mail.outbox[0].subject
    page = manager_client.get("/inbox/").content.decode()
    assert 'Reviews to do <span class="chip">1</span>' in page
    assert nav_count(manager_client) == "2"  # the review and its notification

    with django_capture_on_commit_callbacks(execute=True):
        deliverable_reject(deliverable=post, actor=manager, comment="Shorter, please")
    assert mail.outbox[-1].to == ["marketer@example.com"]
    page = marketer_client.get("/inbox/").content.decode()
    assert 'Changes requested of your work <span class="chip">1</span>' in page
    assert "manager requested changes to" in page and "Shorter, please" in page
    assert nav_count(marketer_client) == "2"

    marketer_client.post("/inbox/read")
    assert nav_count(marketer_client) == "1"  # the work itself still waits
    assert Deliverable.objects.get(pk=post.pk).status == "changes_requested"


def test_email_can_be_turned_off_from_the_inbox_and_by_the_link(
    marketer, manager, manager_client, post, django_capture_on_commit_callbacks
):
    manager_client.post("/inbox/email", {})  # unchecked: off
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_submit(deliverable=post, actor=marketer)
    assert mail.outbox == []
    assert "marketer asks you to review" in manager_client.get("/inbox/").content.decode()  # still in the inbox

    manager_client.post("/inbox/email", {"email": "on"})
    deliverable_reject(deliverable=post, actor=manager, comment="x")  # to marketer
    from deliverables.services import deliverable_amend

    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="New LinkedIn text here.")
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_submit(deliverable=post, actor=marketer)
    link = re.search(r"http://127\.0\.0\.1:8000(/inbox/unsubscribe/[^/\s]+/)", mail.outbox[-1].body).group(1)
    anonymous = Client()
    assert "Stop notification email?" in anonymous.get(link).content.decode()
    assert anonymous.post(link).status_code == 200
    assert NotificationSettings.objects.get(user=manager).email is False
    assert anonymous.post("/inbox/unsubscribe/forged/").status_code == 400


def test_bulk_actions_check_each_item_and_refuse_without_a_comment(marketer, manager_client, marketer_client, post):
    deliverable_submit(deliverable=post, actor=marketer)
    assert marketer_client.post("/approvals/bulk", {"action": "approve", "ids": [post.pk]}).status_code == 403

    refused = manager_client.post("/approvals/bulk", {"action": "reject", "ids": [post.pk]}, follow=True)
    assert "a comment is required to request changes" in refused.content.decode()
    assert Deliverable.objects.get(pk=post.pk).status == "in_review"

    done = manager_client.post(
        "/approvals/bulk", {"action": "reject", "ids": [post.pk, "not-a-uuid"], "comment": "Shorter"}, follow=True
    )
    assert "Changes requested for 1 deliverable." in done.content.decode()
    assert Deliverable.objects.get(pk=post.pk).status == "changes_requested"
    again = manager_client.post("/approvals/bulk", {"action": "approve", "ids": [post.pk]}, follow=True)
    assert "illegal transition: it is changes_requested" in again.content.decode()
