"""The admin through Django's test client: managers approve and reject through the same services, with a comment
page in between; marketers never see those actions; every page is scoped to the user's brands."""

import pytest
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.tests.factories import UserFactory
from deliverables.models import AuditEvent, Deliverable, ProviderCall
from deliverables.services import deliverable_amend, deliverable_submit

from .review_helpers import generate_campaign, generate_creatives, of_kind, set_status, snapshot

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/deliverables/deliverable/"


@pytest.fixture
def run(marketer, run_tasks_inline):
    return generate_campaign(marketer, run_tasks_inline)


@pytest.fixture
def in_review(run, marketer):
    post = of_kind(run, "linkedin_post")
    deliverable_submit(deliverable=post, actor=marketer)
    return post


def _action_names(response) -> list[str]:
    return [name for name, _ in response.context["action_form"].fields["action"].choices if name]


def _messages(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in response.context["messages"]]


def test_a_manager_approves_with_a_comment_through_the_intermediate_page(client, manager, in_review):
    client.force_login(manager)

    changelist = client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert _action_names(changelist) == ["approve_selected", "reject_selected", "submit_selected"]

    page = client.post(CHANGELIST, {"action": "approve_selected", ACTION_CHECKBOX_NAME: [in_review.pk], "index": 0})
    assert page.status_code == 200
    assert page.templates[0].name == "admin/deliverables/deliverable/transition.html"
    assert Deliverable.objects.get(pk=in_review.pk).status == "in_review"  # nothing happens before the confirm

    done = client.post(
        CHANGELIST,
        {"action": "approve_selected", ACTION_CHECKBOX_NAME: [in_review.pk], "apply": "1", "comment": "Ship it"},
        follow=True,
    )

    assert Deliverable.objects.get(pk=in_review.pk).status == "approved"
    event = AuditEvent.objects.get(deliverable=in_review, action="approve")
    assert (event.actor, event.comment, event.from_status, event.to_status) == (
        manager,
        "Ship it",
        "in_review",
        "approved",
    )
    assert _messages(done) == [(messages.SUCCESS, "1 deliverable approved.")]


def test_reject_needs_a_comment_on_the_intermediate_page(client, manager, in_review):
    client.force_login(manager)
    before = snapshot(in_review)

    page = client.post(
        CHANGELIST, {"action": "reject_selected", ACTION_CHECKBOX_NAME: [in_review.pk], "apply": "1", "comment": ""}
    )

    assert page.status_code == 200
    assert page.context["form"].errors == {"comment": ["This field is required."]}
    assert snapshot(in_review) == before
    client.post(
        CHANGELIST,
        {
            "action": "reject_selected",
            ACTION_CHECKBOX_NAME: [in_review.pk],
            "apply": "1",
            "comment": "Add the roast date",
        },
    )
    assert Deliverable.objects.get(pk=in_review.pk).status == "changes_requested"
    assert AuditEvent.objects.get(deliverable=in_review, action="reject").comment == "Add the roast date"


def test_each_refusal_is_reported_and_the_rest_still_happen(client, manager, marketer, run, in_review):
    draft = of_kind(run, "email_copy")
    blocked = of_kind(run, "instagram_post")
    deliverable_amend(deliverable=blocked, actor=marketer, version=1, content_markdown="Cheap coffee!")
    set_status(blocked, "in_review")  # submit refuses blocking issues now; data from before that still can be
    client.force_login(manager)

    done = client.post(
        CHANGELIST,
        {
            "action": "approve_selected",
            "apply": "1",
            "comment": "",
            ACTION_CHECKBOX_NAME: [in_review.pk, draft.pk, blocked.pk],
        },
        follow=True,
    )

    statuses = dict(Deliverable.objects.filter(pk__in=[in_review.pk, draft.pk, blocked.pk]).values_list("pk", "status"))
    assert statuses == {in_review.pk: "approved", draft.pk: "draft", blocked.pk: "in_review"}
    reported = _messages(done)
    assert (messages.SUCCESS, "1 deliverable approved.") in reported
    assert (messages.WARNING, f"“{draft}” was not approved: illegal transition: it is draft") in reported
    assert any(
        level == messages.WARNING
        and message.startswith(f"“{blocked}” was not approved: Approval refused")
        and "Uses the banned word “cheap”." in message
        for level, message in reported
    )
    assert AuditEvent.objects.filter(action="approve").count() == 1


def test_a_marketer_who_is_not_staff_cannot_enter_the_admin(client, marketer, in_review):
    assert not marketer.is_staff
    client.force_login(marketer)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_staff_marketer_sees_no_approve_or_reject_action_and_cannot_post_one(client, brand, in_review):
    staff_marketer = UserFactory(username="staffmarketer", role="marketer", brands=[brand], is_staff=True)
    client.force_login(staff_marketer)
    before = snapshot(in_review)

    changelist = client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert _action_names(changelist) == ["submit_selected"]

    for action in ("approve_selected", "reject_selected"):
        client.post(
            CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [in_review.pk], "apply": "1", "comment": "sneaky"}
        )
    assert snapshot(in_review) == before


def test_a_staff_marketer_submits_through_the_admin(client, brand, run):
    staff_marketer = UserFactory(username="staffmarketer", role="marketer", brands=[brand], is_staff=True)
    draft = of_kind(run, "email_copy")
    client.force_login(staff_marketer)

    client.post(
        CHANGELIST, {"action": "submit_selected", ACTION_CHECKBOX_NAME: [draft.pk], "apply": "1", "comment": ""}
    )

    assert Deliverable.objects.get(pk=draft.pk).status == "in_review"


def test_the_deliverable_page_renders_the_current_revision_as_sanitised_html(client, manager, marketer, run):
    post = of_kind(run, "linkedin_post")
    deliverable_amend(
        deliverable=post,
        actor=marketer,
        version=1,
        content_markdown="**Bold** claim <script>alert('x')</script> [more](javascript:alert(1))",
    )
    client.force_login(manager)

    page = client.get(f"{CHANGELIST}{post.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>Bold</strong> claim &lt;script&gt;alert" in html
    assert "<script>alert" not in html
    assert 'href="javascript:' not in html
    assert "No issues." in html  # the quality report
    assert 'name="_save"' not in html  # read-only: changes go through the workflow
    assert [revision.version for revision in page.context["inline_admin_formsets"][0].formset.queryset] == [2, 1]


def test_every_model_is_listed_for_a_manager_and_scoped_to_their_brands(
    client, manager, outsider, run, run_tasks_inline, marketer
):
    generate_creatives(marketer, run_tasks_inline, count=1)
    theirs = generate_campaign(outsider, run_tasks_inline, brand=outsider.brands.get(), campaign_name="Globex Q1")
    client.force_login(manager)

    index = client.get("/admin/")
    models = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    assert {"Run", "Deliverable", "Revision", "Asset", "AuditEvent", "ProviderCall", "Brand", "Campaign"} <= models

    for path, mine in [
        ("deliverables/run", 2),
        ("deliverables/deliverable", 8),
        ("deliverables/revision", 8),
        ("deliverables/asset", 1),
        ("deliverables/providercall", 9),
        ("brands/brand", 1),
        ("campaigns/campaign", 1),
    ]:
        page = client.get(f"/admin/{path}/")
        assert page.status_code == 200, path
        assert page.context["cl"].result_count == mine, path
        assert "Globex" not in page.content.decode(), path  # not even in the brand filter
    assert client.get(f"/admin/deliverables/run/{theirs.pk}/change/").status_code == 302  # not theirs: not found
    run_page = client.get(f"/admin/deliverables/run/{run.pk}/change/")
    assert run_page.status_code == 200
    assert ProviderCall.objects.filter(run=run).count() == len(
        run_page.context["inline_admin_formsets"][1].formset.queryset
    )


def test_the_asset_list_previews_images_through_the_members_only_url(client, manager, marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=1)
    asset = of_kind(run, "ad_copy").assets.get()
    client.force_login(manager)

    page = client.get("/admin/deliverables/asset/")

    assert f'<img src="/assets/{asset.pk}/file"' in page.content.decode()
    assert client.get(f"/assets/{asset.pk}/file").status_code == 200


def test_run_search_finds_by_campaign_name_and_trace_id(client, manager, run):
    client.force_login(manager)

    assert client.get("/admin/deliverables/run/?q=Q1+Launch").context["cl"].result_count == 1
    assert client.get("/admin/deliverables/run/?q=trace-review").context["cl"].result_count == 1
    assert client.get(f"/admin/deliverables/run/?q={str(run.run_id)[:8]}").context["cl"].result_count == 1
    assert client.get("/admin/deliverables/run/?q=nothing-like-it").context["cl"].result_count == 0


def test_change_lists_take_the_same_queries_for_one_run_or_three(client, manager, marketer, run_tasks_inline):
    paths = [
        "deliverables/run",
        "deliverables/deliverable",
        "deliverables/revision",
        "deliverables/auditevent",
        "deliverables/providercall",
        "deliverables/asset",
    ]
    client.force_login(manager)
    counts = []
    for name in ("One", "Two", "Three"):
        generate_campaign(marketer, run_tasks_inline, campaign_name=name)
        if name == "Two":
            continue
        with CaptureQueriesContext(connection) as queries:
            for path in paths:
                assert client.get(f"/admin/{path}/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
