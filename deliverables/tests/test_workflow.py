"""The review workflow services: every transition, and every refusal leaving everything as it was."""

import threading

import pytest
from django.db import connection

from aicmo.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from brands.tests.factories import UserFactory
from deliverables.models import AuditEvent, Deliverable, Revision
from deliverables.selectors import with_current_revision
from deliverables.services import (
    deliverable_actions,
    deliverable_amend,
    deliverable_approve,
    deliverable_reject,
    deliverable_submit,
)
from deliverables.services.workflow import calendar_entries

from .review_helpers import generate_campaign, of_kind, set_status, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(marketer, run_tasks_inline):
    return generate_campaign(marketer, run_tasks_inline)


@pytest.fixture
def post(run):
    return of_kind(run, "linkedin_post")


def _events(deliverable):
    return list(
        AuditEvent.objects.filter(deliverable=deliverable)
        .order_by("created_at", "pk")
        .values("actor__username", "action", "from_status", "to_status", "comment", "revision", "run_id")
    )


# --- submit / approve / reject ---------------------------------------------------------------------------------


def test_submit_moves_a_draft_into_review_and_audits_it(post, marketer):
    result = deliverable_submit(deliverable=post, actor=marketer, comment="Ready for you")

    assert result.status == "in_review"
    assert Deliverable.objects.get(pk=post.pk).status == "in_review"
    assert post.status == "in_review"  # the caller's instance is refreshed too
    assert _events(post) == [
        {
            "actor__username": "marketer",
            "action": "submit",
            "from_status": "draft",
            "to_status": "in_review",
            "comment": "Ready for you",
            "revision": 1,
            "run_id": post.run_id,
        }
    ]


def test_a_manager_approves_a_deliverable_in_review(post, marketer, manager):
    deliverable_submit(deliverable=post, actor=marketer)

    result = deliverable_approve(deliverable=post, actor=manager, comment="Lovely")

    assert result.status == "approved"
    assert _events(post)[-1] == {
        "actor__username": "manager",
        "action": "approve",
        "from_status": "in_review",
        "to_status": "approved",
        "comment": "Lovely",
        "revision": 1,
        "run_id": post.run_id,
    }


def test_a_manager_rejects_with_a_comment(post, marketer, manager):
    deliverable_submit(deliverable=post, actor=marketer)

    result = deliverable_reject(deliverable=post, actor=manager, comment="Shorter, please")

    assert result.status == "changes_requested"
    assert _events(post)[-1] == {
        "actor__username": "manager",
        "action": "reject",
        "from_status": "in_review",
        "to_status": "changes_requested",
        "comment": "Shorter, please",
        "revision": 1,
        "run_id": post.run_id,
    }


@pytest.mark.parametrize("comment", ["", "   \n"])
def test_reject_without_a_comment_is_refused_and_changes_nothing(post, marketer, manager, comment):
    deliverable_submit(deliverable=post, actor=marketer)
    before = snapshot(post)

    with pytest.raises(ApplicationError) as refusal:
        deliverable_reject(deliverable=post, actor=manager, comment=comment)

    assert refusal.value.http_status == 400
    assert refusal.value.details == {"comment": ["This field is required to reject."]}
    assert snapshot(post) == before


@pytest.mark.parametrize(
    "status, action",
    [
        ("in_review", "submit"),
        ("approved", "submit"),
        ("changes_requested", "submit"),
        ("draft", "approve"),
        ("approved", "approve"),
        ("changes_requested", "approve"),
        ("draft", "reject"),
        ("approved", "reject"),
        ("changes_requested", "reject"),
    ],
)
def test_illegal_transitions_are_conflicts_that_change_nothing(post, manager, status, action):
    set_status(post, status)
    before = snapshot(post)
    service = {"submit": deliverable_submit, "approve": deliverable_approve, "reject": deliverable_reject}[action]

    with pytest.raises(Conflict) as refusal:
        service(deliverable=post, actor=manager, comment="because")

    assert refusal.value.message == f"illegal transition: it is {status}"
    assert refusal.value.details["status"] == status
    assert snapshot(post) == before


@pytest.mark.parametrize("service", [deliverable_approve, deliverable_reject])
def test_marketers_cannot_approve_or_reject(post, marketer, service):
    deliverable_submit(deliverable=post, actor=marketer)
    before = snapshot(post)

    with pytest.raises(PermissionDenied):
        service(deliverable=post, actor=marketer, comment="mine is great")

    assert snapshot(post) == before


def test_a_manager_of_another_brand_gets_not_found(post, marketer, other_brand):
    deliverable_submit(deliverable=post, actor=marketer)
    stranger = UserFactory(username="stranger", role="manager", brands=[other_brand])
    before = snapshot(post)

    with pytest.raises(NotFound):
        deliverable_approve(deliverable=post, actor=stranger)

    assert snapshot(post) == before


def test_approval_is_refused_while_the_revision_has_blocking_issues(post, marketer, manager):
    deliverable_amend(
        deliverable=post,
        actor=marketer,
        version=1,
        content_markdown="Our cheap coffee, [Insert offer here]. Discover it today.",
    )
    before = snapshot(post)
    with pytest.raises(Conflict) as submit_refusal:
        deliverable_submit(deliverable=post, actor=marketer)
    assert submit_refusal.value.message.startswith("Submitting refused: the current revision has blocking")
    assert [issue["code"] for issue in submit_refusal.value.details] == ["placeholder", "banned_word"]
    assert snapshot(post) == before
    set_status(post, "in_review")  # as data from before submit checked quality
    before = snapshot(post)

    with pytest.raises(Conflict) as refusal:
        deliverable_approve(deliverable=post, actor=manager)

    assert refusal.value.message.startswith("Approval refused: the current revision has blocking quality issues")
    assert [issue["code"] for issue in refusal.value.details] == ["placeholder", "banned_word"]
    assert refusal.value.details[1]["message"] == "Uses the banned word “cheap”."
    assert snapshot(post) == before
    assert Deliverable.objects.get(pk=post.pk).status == "in_review"


def test_a_slot_that_was_not_generated_cannot_be_touched(post, marketer):
    Deliverable.objects.filter(pk=post.pk).update(generation_status="failed")
    before = snapshot(post)

    with pytest.raises(Conflict) as refusal:
        deliverable_submit(deliverable=post, actor=marketer)

    assert refusal.value.details == {"generation_status": "failed"}
    assert snapshot(post) == before


# --- amend ---------------------------------------------------------------------------------------------------


def test_amend_writes_a_new_immutable_revision_with_its_quality_report(post, marketer):
    first = Revision.objects.get(deliverable=post, version=1)

    revision = deliverable_amend(
        deliverable=post,
        actor=marketer,
        version=1,
        title="Launch day",
        content_markdown="  Fresh roast, every Monday. Order yours.  ",
        hashtags=["coffee", "#Roast", "#coffee"],
        note="Tighter copy",
    )

    assert (revision.version, revision.author, revision.note) == (2, marketer, "Tighter copy")
    assert revision.content_markdown == "Fresh roast, every Monday. Order yours."
    assert revision.title == "Launch day"
    assert revision.hashtags == ["#coffee", "#Roast"]
    assert revision.provider == ""
    assert revision.quality == {"blocking": [], "warnings": []}
    post.refresh_from_db()
    assert (post.version, post.status, post.title, post.hashtags) == (2, "draft", "Launch day", ["#coffee", "#Roast"])
    assert Revision.objects.get(pk=first.pk).content_markdown == first.content_markdown  # v1 untouched
    assert _events(post) == [
        {
            "actor__username": "marketer",
            "action": "amend",
            "from_status": "draft",
            "to_status": "draft",
            "comment": "Tighter copy",
            "revision": 2,
            "run_id": post.run_id,
        }
    ]


def test_amend_keeps_title_and_hashtags_when_not_given(post, marketer):
    first = Revision.objects.get(deliverable=post, version=1)

    revision = deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="New text.")

    assert (revision.title, revision.hashtags) == (first.title, first.hashtags)
    assert revision.hashtags != []


def test_amend_computes_quality_against_the_runs_brand_kit(post, marketer, brand):
    brand.banned_words = []  # the kit of the run (a snapshot at request time) is what counts
    brand.save()

    revision = deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="So cheap!")

    assert revision.quality["blocking"] == [{"code": "banned_word", "message": "Uses the banned word “cheap”."}]


def test_amending_an_approved_deliverable_opens_a_draft_that_needs_approval_again(post, marketer, manager):
    deliverable_submit(deliverable=post, actor=marketer)
    deliverable_approve(deliverable=post, actor=manager)

    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="A late change.")

    post.refresh_from_db()
    assert (post.status, post.version) == ("draft", 2)
    assert _events(post)[-1]["from_status"] == "approved" and _events(post)[-1]["to_status"] == "draft"
    with pytest.raises(Conflict):
        deliverable_approve(deliverable=post, actor=manager)
    deliverable_submit(deliverable=post, actor=marketer)
    assert deliverable_approve(deliverable=post, actor=manager).status == "approved"
    assert _events(post)[-1]["revision"] == 2


def test_amending_after_changes_were_requested_returns_to_draft(post, marketer, manager):
    deliverable_submit(deliverable=post, actor=marketer)
    deliverable_reject(deliverable=post, actor=manager, comment="Mention the roast date")

    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="Roasted Monday.")

    post.refresh_from_db()
    assert (post.status, post.version) == ("draft", 2)


def test_amend_with_a_stale_version_is_a_conflict_that_changes_nothing(post, marketer, manager):
    deliverable_amend(deliverable=post, actor=manager, version=1, content_markdown="The manager's edit.")
    before = snapshot(post)

    with pytest.raises(Conflict) as refusal:
        deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="My edit of v1.")

    assert refusal.value.details == {"current_version": 2, "version": 1}
    assert "Stale version" in refusal.value.message
    assert snapshot(post) == before


def test_amend_while_in_review_is_refused(post, marketer):
    deliverable_submit(deliverable=post, actor=marketer)
    before = snapshot(post)

    with pytest.raises(Conflict) as refusal:
        deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="Sneaky edit.")

    assert refusal.value.message.startswith("It is in review")
    assert snapshot(post) == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"content_markdown": "  \n "}, "content_markdown"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 241}, "title"),
        ({"hashtags": ["two words"]}, "hashtags"),
        ({"hashtags": ["#"]}, "hashtags"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_invalid_amends_are_refused_and_change_nothing(post, marketer, changes, field):
    before = snapshot(post)

    with pytest.raises(ApplicationError) as refusal:
        deliverable_amend(deliverable=post, actor=marketer, version=1, **{"content_markdown": "Fine text.", **changes})

    assert refusal.value.http_status == 400
    assert list(refusal.value.details) == [field]
    assert snapshot(post) == before


def test_amending_the_calendar_reads_its_entries_back_from_the_table(run, marketer):
    calendar = of_kind(run, "content_calendar")
    content = (
        "## Calendar\n\n| Date | Platform | Title | Copy |\n|---|---|---|---|\n"
        "| 2030-01-02 | LinkedIn | Kick-off | Day one \\| the launch |\n"
        "| 2030-01-03 | X (Twitter) | Thread | Short |\n| not a row |\n"
    )

    revision = deliverable_amend(deliverable=calendar, actor=marketer, version=1, content_markdown=content)

    expected = [
        {"date": "2030-01-02", "platform": "linkedin", "title": "Kick-off", "text": "Day one | the launch"},
        {"date": "2030-01-03", "platform": "twitter", "title": "Thread", "text": "Short"},
    ]
    assert revision.structured == {"entries": expected}
    assert Deliverable.objects.get(pk=calendar.pk).metadata["entries"] == expected


def test_calendar_parsing_round_trips_what_generation_renders(run):
    calendar = with_current_revision([of_kind(run, "content_calendar")])[0]

    assert (
        calendar_entries(calendar.current_revision.content_markdown) == calendar.current_revision.structured["entries"]
    )


def test_amending_an_email_rechecks_its_subject_line(run, marketer):
    email = of_kind(run, "email_copy")
    long_subject = "A subject line that goes on and on well past what any inbox will ever show to a reader"

    revision = deliverable_amend(
        deliverable=email,
        actor=marketer,
        version=1,
        content_markdown=f"**Subject:** {long_subject}\n\n**Preheader:** Hi\n\n---\n\nBody.",
    )

    assert revision.structured == {"subject": long_subject, "preheader": "Hi"}
    assert revision.quality["blocking"] == [{"code": "over_limit", "message": "Subject line over 78 characters."}]


def test_amending_an_ad_keeps_its_structured_fields(marketer, run_tasks_inline):
    from .review_helpers import generate_creatives

    ad = of_kind(generate_creatives(marketer, run_tasks_inline, with_images=False), "ad_copy")
    previous = Revision.objects.get(deliverable=ad, version=1).structured

    revision = deliverable_amend(deliverable=ad, actor=marketer, version=1, content_markdown="## New\n\nShorter ad.")

    assert revision.structured == previous
    assert len(revision.structured["image_prompts"]) >= 3


# --- what a user may do --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, marketer_may, manager_may",
    [
        ("draft", ["amend", "submit"], ["amend", "submit"]),
        ("in_review", [], ["approve", "reject"]),
        ("changes_requested", ["amend"], ["amend"]),
        ("approved", ["amend"], ["amend"]),
    ],
)
def test_actions_follow_status_and_role(post, marketer, manager, outsider, status, marketer_may, manager_may):
    set_status(post, status)

    assert deliverable_actions(user=marketer, deliverable=post) == marketer_may
    assert deliverable_actions(user=manager, deliverable=post) == manager_may
    assert deliverable_actions(user=outsider, deliverable=post) == []


def test_approve_is_not_offered_while_blocking_issues_remain(post, marketer, manager):
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown="TBD")
    post.refresh_from_db()
    assert deliverable_actions(user=marketer, deliverable=post) == ["amend"]  # submit is not offered either
    set_status(post, "in_review")

    assert deliverable_actions(user=manager, deliverable=post) == ["reject"]
    attached = with_current_revision([Deliverable.objects.select_related("run").get(pk=post.pk)])[0]
    assert deliverable_actions(user=manager, deliverable=attached) == ["reject"]


def test_nothing_is_offered_on_a_slot_that_was_not_generated(post, manager):
    Deliverable.objects.filter(pk=post.pk).update(generation_status="running")
    post.refresh_from_db()

    assert deliverable_actions(user=manager, deliverable=post) == []


# --- two managers at once ------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_give_one_approval_and_one_audit_event(marketer, manager, brand, run_tasks_inline):
    post = of_kind(generate_campaign(marketer, run_tasks_inline), "linkedin_post")
    deliverable_submit(deliverable=post, actor=marketer)
    second_manager = UserFactory(username="manager2", role="manager", brands=[brand], is_staff=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(username: str) -> None:
        try:
            from django.contrib.auth import get_user_model

            actor = get_user_model().objects.get(username=username)
            mine = Deliverable.objects.get(pk=post.pk)
            barrier.wait(timeout=10)
            deliverable_approve(deliverable=mine, actor=actor, comment=f"by {username}")
            outcomes.append("approved")
        except Conflict as refusal:
            outcomes.append(refusal.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("manager", second_manager.username)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "illegal transition: it is approved"]
    assert Deliverable.objects.get(pk=post.pk).status == "approved"
    assert AuditEvent.objects.filter(deliverable=post, action="approve").count() == 1
