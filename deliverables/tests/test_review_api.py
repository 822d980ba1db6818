"""The review API: scoping (401 / 404), roles (403), conflicts (409), validation (400), and the answers."""

import uuid

import pytest
from rest_framework.test import APIClient

from deliverables.models import AuditEvent, Deliverable, Revision

from .review_helpers import generate_campaign, of_kind, set_status, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(marketer, run_tasks_inline):
    return of_kind(generate_campaign(marketer, run_tasks_inline), "linkedin_post")


def url(deliverable, suffix=""):
    return f"/api/v1/deliverables/{deliverable.pk}{suffix}"


def test_get_answers_the_deliverable_with_its_revision_quality_and_actions(marketer_api, post):
    response = marketer_api.get(url(post))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(post.pk)
    assert body["run_id"] == str(post.run.run_id)
    assert body["brand"] == "acme"
    assert (body["kind"], body["platform"], body["status"], body["version"]) == (
        "linkedin_post",
        "linkedin",
        "draft",
        1,
    )
    assert body["current_revision"]["version"] == 1
    assert body["current_revision"]["provider"] == "offline"
    assert body["current_revision"]["author"] is None
    assert body["current_revision"]["content_markdown"].startswith("There is something good waiting for you at Acme")
    assert body["quality"] == {"blocking": [], "warnings": []}
    assert body["actions"] == ["amend", "submit"]
    assert "slot" not in body["metadata"]


def test_the_full_review_through_the_api(marketer_api, manager_api, post):
    amended = marketer_api.patch(
        url(post),
        {
            "content_markdown": "Roasted Monday, in your cup by Friday.",
            "hashtags": ["#Roast"],
            "version": 1,
            "note": "Punchier",
        },
        format="json",
    )
    assert amended.status_code == 200
    assert amended.json()["version"] == 2
    assert amended.json()["current_revision"]["author"] == "marketer"
    assert amended.json()["current_revision"]["note"] == "Punchier"
    assert amended.json()["hashtags"] == ["#Roast"]

    submitted = marketer_api.post(url(post, "/submit"), {"comment": "Please review"}, format="json")
    assert (submitted.status_code, submitted.json()["status"]) == (200, "in_review")
    assert submitted.json()["actions"] == []
    assert manager_api.get(url(post)).json()["actions"] == ["approve", "reject"]

    approved = manager_api.post(url(post, "/approve"), {}, format="json")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert list(
        AuditEvent.objects.filter(deliverable=post)
        .order_by("created_at", "pk")
        .values_list("action", "actor__username", "revision")
    ) == [("amend", "marketer", 2), ("submit", "marketer", 2), ("approve", "manager", 2)]


def test_revisions_are_listed_newest_first_with_author_or_provider_and_note(marketer_api, post):
    marketer_api.patch(url(post), {"content_markdown": "Second.", "version": 1, "note": "Fix typo"}, format="json")

    response = marketer_api.get(url(post, "/revisions"))

    assert response.status_code == 200
    rows = [(r["version"], r["author"], r["provider"], r["note"]) for r in response.json()["results"]]
    assert rows == [(2, "marketer", "", "Fix typo"), (1, None, "offline", "Generated")]
    assert response.json()["results"][0]["content_markdown"] == "Second."


def test_a_stale_version_answers_409_with_the_current_one(marketer_api, manager_api, post):
    manager_api.patch(url(post), {"content_markdown": "Manager's edit.", "version": 1}, format="json")
    before = snapshot(post)

    response = marketer_api.patch(url(post), {"content_markdown": "Mine.", "version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["details"] == {"current_version": 2, "version": 1}
    assert snapshot(post) == before


def test_marketers_get_403_on_approve_and_reject(marketer_api, post, marketer):
    marketer_api.post(url(post, "/submit"), {}, format="json")
    before = snapshot(post)

    assert marketer_api.post(url(post, "/approve"), {}, format="json").status_code == 403
    response = marketer_api.post(url(post, "/reject"), {"comment": "no"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert snapshot(post) == before


def test_the_permission_is_checked_before_the_body(marketer_api, post, brand):
    """A role that may not act gets 403 whatever it sent, not a 400 about the body (contract §5)."""
    marketer_api.post(url(post, "/submit"), {}, format="json")
    before = snapshot(post)

    answers = {
        "reject without a comment": marketer_api.post(url(post, "/reject"), {}, format="json"),
        "approve with a bad comment": marketer_api.post(url(post, "/approve"), {"comment": "x" * 2001}, format="json"),
    }

    assert {name: (r.status_code, r.json()) for name, r in answers.items()} == {
        "reject without a comment": (
            403,
            {"detail": "Only a manager of this brand may reject its deliverables.", "code": "permission_denied"},
        ),
        "approve with a bad comment": (
            403,
            {"detail": "Only a manager of this brand may approve its deliverables.", "code": "permission_denied"},
        ),
    }
    assert snapshot(post) == before


def test_an_illegal_transition_answers_409(manager_api, post):
    before = snapshot(post)

    response = manager_api.post(url(post, "/approve"), {}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "illegal transition: it is draft"
    assert snapshot(post) == before


def test_blocking_quality_issues_answer_409_listing_them(marketer_api, manager_api, post):
    marketer_api.patch(url(post), {"content_markdown": "Cheap beans, {{discount}} off!", "version": 1}, format="json")
    before = snapshot(post)

    submitted = marketer_api.post(url(post, "/submit"), {}, format="json")

    assert submitted.status_code == 409
    assert submitted.json()["detail"].startswith("Submitting refused: the current revision has blocking quality")
    assert [issue["code"] for issue in submitted.json()["details"]] == ["placeholder", "banned_word"]
    assert marketer_api.get(url(post)).json()["actions"] == ["amend"]
    assert snapshot(post) == before
    set_status(post, "in_review")  # as data from before submit checked quality
    before = snapshot(post)

    response = manager_api.post(url(post, "/approve"), {"comment": "ok"}, format="json")

    assert response.status_code == 409
    assert [issue["code"] for issue in response.json()["details"]] == ["placeholder", "banned_word"]
    assert manager_api.get(url(post)).json()["quality"]["blocking"] == response.json()["details"]
    assert snapshot(post) == before


def test_reject_needs_a_comment(manager_api, marketer_api, post):
    marketer_api.post(url(post, "/submit"), {}, format="json")
    before = snapshot(post)

    response = manager_api.post(url(post, "/reject"), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"comment": ["This field is required."]}
    assert snapshot(post) == before
    rejected = manager_api.post(url(post, "/reject"), {"comment": "Add the roast date"}, format="json")
    assert rejected.json()["status"] == "changes_requested"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"content_markdown": "x"}, "version"),
        ({"version": 1}, "content_markdown"),
        ({"content_markdown": "   ", "version": 1}, "content_markdown"),
        ({"content_markdown": "x", "version": "one"}, "version"),
        ({"content_markdown": "x", "version": 0}, "version"),
        ({"content_markdown": "x", "version": 2**40}, "version"),
        ({"content_markdown": "x", "version": 1, "hashtags": "#one"}, "hashtags"),
        ({"content_markdown": "x", "version": 1, "hashtags": ["two words"]}, "hashtags"),
        ({"content_markdown": "x", "version": 1, "title": ""}, "title"),
        ({"content_markdown": "x\x00y", "version": 1}, "content_markdown"),
        ({"content_markdown": "x", "version": 1, "note": "n" * 501}, "note"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_bad_amends_answer_400_naming_the_field(marketer_api, post, body, field):
    before = snapshot(post)

    response = marketer_api.patch(url(post), body, format="json")

    assert response.status_code == 400
    errors = response.json().get("details", response.json())  # DRF's field errors, or a service's refusal
    assert list(errors) == [field]
    assert snapshot(post) == before


def test_malformed_json_answers_400(marketer_api, manager_api, post):
    response = marketer_api.generic("PATCH", url(post), "{not json", content_type="application/json")
    assert response.status_code == 400
    response = manager_api.generic("POST", url(post, "/reject"), "[", content_type="application/json")
    assert response.status_code == 400  # for a marketer, 403: the permission is checked before the body


def test_anonymous_gets_401_everywhere(post):
    anonymous = APIClient()
    assert anonymous.get(url(post)).status_code == 401
    assert anonymous.patch(url(post), {"content_markdown": "x", "version": 1}, format="json").status_code == 401
    for action in ("/submit", "/approve", "/reject"):
        assert anonymous.post(url(post, action), {"comment": "x"}, format="json").status_code == 401
    assert anonymous.get(url(post, "/revisions")).status_code == 401
    assert anonymous.get(f"/api/v1/runs/{post.run.run_id}/export?format=md").status_code == 401


def test_outsiders_get_404_everywhere_and_change_nothing(post, outsider_api):
    before = snapshot(post)

    assert outsider_api.get(url(post)).status_code == 404
    assert outsider_api.patch(url(post), {"content_markdown": "x", "version": 1}, format="json").status_code == 404
    for action in ("/submit", "/approve", "/reject"):
        assert outsider_api.post(url(post, action), {"comment": "x"}, format="json").status_code == 404
    assert outsider_api.get(url(post, "/revisions")).status_code == 404
    assert outsider_api.get(f"/api/v1/runs/{post.run.run_id}/export?format=md").status_code == 404
    assert snapshot(post) == before


def test_unknown_ids_answer_404(marketer_api):
    assert marketer_api.get(f"/api/v1/deliverables/{uuid.uuid4()}").status_code == 404
    assert marketer_api.get("/api/v1/deliverables/not-a-uuid").status_code == 404
    assert marketer_api.get(f"/api/v1/runs/{uuid.uuid4()}/export?format=md").status_code == 404


def test_a_slot_still_generating_is_readable_but_not_actionable(marketer_api, post):
    Deliverable.objects.filter(pk=post.pk).update(generation_status="running", version=0)
    Revision.objects.filter(deliverable=post).delete()

    body = marketer_api.get(url(post)).json()
    assert (body["current_revision"], body["quality"], body["actions"]) == (None, None, [])
    response = marketer_api.post(url(post, "/submit"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["details"] == {"generation_status": "running"}


def test_export_downloads_an_attachment(marketer_api, post):
    response = marketer_api.get(f"/api/v1/runs/{post.run.run_id}/export?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="aicmo_acme_q1-launch_')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response.content.decode().splitlines()[0] == "date,platform,title,text,hashtags,status,provider,model"


@pytest.mark.parametrize(
    "query, field", [("", "format"), ("?format=pdf", "format"), ("?format=md&approved_only=maybe", "approved_only")]
)
def test_export_with_bad_parameters_answers_400(marketer_api, post, query, field):
    response = marketer_api.get(f"/api/v1/runs/{post.run.run_id}/export{query}")

    assert response.status_code == 400
    assert field in response.json()
    assert AuditEvent.objects.filter(action="export").count() == 0


def test_export_of_approved_only_with_nothing_approved_answers_409(marketer_api, post):
    response = marketer_api.get(f"/api/v1/runs/{post.run.run_id}/export?format=json&approved_only=1")

    assert response.status_code == 409
    assert response.json()["detail"] == "Nothing to export: no deliverable of this run is approved yet."
    set_status(post, "approved")
    approved = marketer_api.get(f"/api/v1/runs/{post.run.run_id}/export?format=json&approved_only=1")
    assert [d["id"] for d in approved.json()["deliverables"]] == [str(post.pk)]


def test_the_schema_documents_bodies_and_refusals(marketer_api):
    schema = marketer_api.get("/api/schema/?format=json").json()

    patch = schema["paths"]["/api/v1/deliverables/{id}"]["patch"]
    assert set(patch["responses"]) == {"200", "400", "401", "403", "404", "409", "413"}  # 413: body limit
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][body]["required"] == ["content_markdown", "version"]
    reject = schema["paths"]["/api/v1/deliverables/{id}/reject"]["post"]
    assert {"400", "403", "404", "409"} <= set(reject["responses"])
    export = schema["paths"]["/api/v1/runs/{run_id}/export"]["get"]
    assert {p["name"] for p in export["parameters"]} == {"run_id", "format", "approved_only"}
    assert {"200", "400", "404", "409"} <= set(export["responses"])
