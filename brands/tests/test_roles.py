"""Per-brand roles (contract §3): one person manages one brand and only writes for another, through the API, the
pages and the admin alike; a manager cannot approve their own revision unless the brand allows it."""

import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command

from brands.models import Brand, Membership, Role
from brands.tests.factories import UserFactory
from conftest import api_client_for, page_client_for
from deliverables.models import AuditEvent, Deliverable
from deliverables.services import deliverable_amend, deliverable_submit
from deliverables.tests.review_helpers import generate_campaign, of_kind, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def globex_manager(other_brand):
    return UserFactory(username="globex-manager", role="manager", brands=[other_brand], is_staff=True)


@pytest.fixture
def acme_post(marketer, run_tasks_inline):
    """A LinkedIn post of acme, written by acme's marketer, in review."""
    post = of_kind(generate_campaign(marketer, run_tasks_inline), "linkedin_post")
    deliverable_submit(deliverable=post, actor=marketer)
    return post


@pytest.fixture
def globex_post(run_tasks_inline, other_brand):
    writer = UserFactory(username="globex-writer", role="marketer", brands=[other_brand])
    post = of_kind(generate_campaign(writer, run_tasks_inline, brand=other_brand), "linkedin_post")
    deliverable_submit(deliverable=post, actor=writer)
    return post


def url(deliverable, suffix=""):
    return f"/api/v1/deliverables/{deliverable.pk}{suffix}"


# --- the agency: manager of globex, marketer of acme ---------------------------------------------------------


def test_agency_approves_in_globex_and_is_refused_in_acme_through_the_api(agency, acme_post, globex_post):
    client = api_client_for(agency)
    before = snapshot(acme_post)

    refused = client.post(url(acme_post, "/approve"), {}, format="json")
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "Only a manager of this brand may approve its deliverables.", "code": "permission_denied"},
    )
    assert snapshot(acme_post) == before

    approved = client.post(url(globex_post, "/approve"), {"comment": "Fine"}, format="json")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert AuditEvent.objects.get(deliverable=globex_post, action="approve").actor == agency


def test_agency_still_writes_for_acme(agency, acme_post):
    client = api_client_for(agency)
    Deliverable.objects.filter(pk=acme_post.pk).update(status=Deliverable.Status.DRAFT)

    amended = client.patch(url(acme_post), {"content_markdown": "Agency copy.", "version": 1}, format="json")

    assert (amended.status_code, amended.json()["version"]) == (200, 2)
    assert amended.json()["actions"] == ["amend", "submit"]  # never approve: a marketer in acme


def test_agency_generates_for_acme_as_its_marketer(agency, brand, run_tasks_inline):
    run = generate_campaign(agency, run_tasks_inline, brand=brand)
    assert (run.brand, run.requested_by, run.status) == (brand, agency, "SUCCESS")


def test_agency_approves_in_globex_and_is_refused_in_acme_on_the_page(agency, acme_post, globex_post):
    client = page_client_for(agency)
    before = snapshot(acme_post)

    refused = client.post(f"/deliverables/{acme_post.pk}/approve", {"comment": ""})
    assert refused.status_code == 403
    assert "Only a manager of this brand may approve its deliverables." in refused.content.decode()
    assert snapshot(acme_post) == before

    approved = client.post(f"/deliverables/{globex_post.pk}/approve", {"comment": ""})
    assert approved.status_code == 302
    assert Deliverable.objects.get(pk=globex_post.pk).status == "approved"


def test_the_approval_queue_lists_only_the_brands_one_manages(agency, acme_post, globex_post):
    html = page_client_for(agency).get("/approvals/").content.decode()

    assert f'href="/deliverables/{globex_post.pk}/"' in html
    assert f'href="/deliverables/{acme_post.pk}/"' not in html


def test_agency_approves_in_globex_and_is_refused_in_acme_in_the_admin(client, agency, acme_post, globex_post):
    client.force_login(agency)
    changelist = "/admin/deliverables/deliverable/"
    before = snapshot(acme_post)

    done = client.post(
        changelist,
        {
            "action": "approve_selected",
            ACTION_CHECKBOX_NAME: [acme_post.pk, globex_post.pk],
            "apply": "1",
            "comment": "Batch",
        },
        follow=True,
    )

    notes = [m.message for m in done.context["messages"]]
    assert Deliverable.objects.get(pk=globex_post.pk).status == "approved"
    assert {k: v for k, v in snapshot(acme_post).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    assert not AuditEvent.objects.filter(deliverable=acme_post, action="approve").exists()
    assert any("was not approved: Only a manager of this brand may approve" in note for note in notes), notes


# --- self-approval -----------------------------------------------------------------------------------------------


def _own_revision_in_review(manager, post):
    """The manager amends the post (they wrote the current revision) and submits it."""
    Deliverable.objects.filter(pk=post.pk).update(status=Deliverable.Status.DRAFT)
    deliverable_amend(deliverable=post, actor=manager, version=post.version, content_markdown="The manager's copy.")
    deliverable_submit(deliverable=post, actor=manager)
    post.refresh_from_db()
    return post


def test_a_manager_cannot_approve_their_own_revision(manager, acme_post):
    post = _own_revision_in_review(manager, acme_post)
    before = snapshot(post)

    response = api_client_for(manager).post(url(post, "/approve"), {}, format="json")
    page = api_client_for(manager).get(url(post))

    assert (response.status_code, response.json()["detail"]) == (
        403,
        "You wrote the current revision: another manager must approve it (this brand does not allow self-approval).",
    )
    assert snapshot(post) == before
    assert page.json()["actions"] == ["reject"]  # no approve button for the author


def test_another_manager_approves_it(manager, acme_post, brand):
    post = _own_revision_in_review(manager, acme_post)
    second = UserFactory(username="manager2", role="manager", brands=[brand])

    response = api_client_for(second).post(url(post, "/approve"), {}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, "approved")


def test_a_brand_that_allows_self_approval_lets_the_author_approve(manager, acme_post, brand):
    Brand.objects.filter(pk=brand.pk).update(allow_self_approval=True)
    post = _own_revision_in_review(manager, acme_post)

    response = api_client_for(manager).post(url(post, "/approve"), {}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, "approved")


# --- outsiders and the demo data ------------------------------------------------------------------------------------


def test_a_manager_of_another_brand_gets_404_not_403(globex_manager, acme_post):
    before = snapshot(acme_post)
    client = api_client_for(globex_manager)

    assert client.get(url(acme_post)).status_code == 404
    assert client.post(url(acme_post, "/approve"), {}, format="json").status_code == 404
    assert page_client_for(globex_manager).get(f"/deliverables/{acme_post.pk}/").status_code == 404
    assert snapshot(acme_post) == before


def test_seed_demo_gives_each_user_their_roles_per_brand(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent

    roles = set(Membership.objects.values_list("user__username", "brand__slug", "role"))
    assert roles == {
        ("marketer", "acme", Role.MARKETER),
        ("manager", "acme", Role.MANAGER),
        ("outsider", "globex", Role.MARKETER),
        ("agency", "globex", Role.MANAGER),
        ("agency", "acme", Role.MARKETER),
    }
