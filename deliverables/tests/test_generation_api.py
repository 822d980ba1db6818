"""The generate → worker → envelope path, with tasks run in-process and the offline provider."""

import pytest

from aicmo.llm import cooldown
from deliverables.envelope import validate_envelope
from deliverables.models import Deliverable, ProviderCall, Revision, Run
from deliverables.services import deliverable_generate

pytestmark = pytest.mark.django_db(transaction=False)

BRIEF = {
    "campaign_name": "Q1 Launch",
    "objectives": ["Awareness"],
    "platforms": ["LinkedIn", "Email"],
    "budget": 10000,
    "timeline_days": 30,
}


def generate(client, run_tasks_inline, path="/api/v1/campaigns/generate", body=None, **extra):
    with run_tasks_inline():
        response = client.post(path, body or BRIEF, format="json", **extra)
    return response


def test_campaign_generate_answers_pending_then_the_run_succeeds(marketer_api, run_tasks_inline):
    response = generate(marketer_api, run_tasks_inline)

    assert response.status_code == 202
    assert response.data["status"] == "PENDING"
    assert response["Location"] == f"/api/v1/runs/{response.data['run_id']}"
    final = marketer_api.get(response["Location"]).json()
    assert validate_envelope(final) == []
    assert final["status"] == "SUCCESS"
    assert final["progress"] == {"done": 5, "total": 5}
    assert [d["kind"] for d in final["deliverables"]] == [
        "campaign_brief",
        "messaging_framework",
        "content_calendar",
        "linkedin_post",
        "email_copy",
    ]
    assert final["meta"]["provider"] == "offline"
    assert final["meta"]["tokens_used"] == 0  # offline template words are not tokens
    assert final["meta"]["cost_usd"] == 0.0
    brief = final["deliverables"][0]
    assert "Q1 Launch" in brief["title"] and "Acme Coffee Roasters" in brief["title"]
    assert brief["status"] == "draft" and brief["version"] == 1
    assert brief["metadata"]["provider"] == "offline"
    assert ProviderCall.objects.filter(outcome="ok").count() == 5


def test_wait_blocks_until_the_run_ends_and_answers_200(marketer_api, run_tasks_inline):
    response = generate(marketer_api, run_tasks_inline)
    waited = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}?wait=2")
    assert waited.status_code == 200
    assert waited.data["status"] == "SUCCESS"


def test_a_subset_of_deliverables_can_be_asked_for(marketer_api, run_tasks_inline):
    response = generate(
        marketer_api, run_tasks_inline, body={**BRIEF, "platforms": ["linkedin", "x"], "deliverables": ["social_posts"]}
    )
    run = Run.objects.get(run_id=response.data["run_id"])
    assert sorted(run.deliverables.values_list("kind", flat=True)) == ["linkedin_post", "twitter_post"]


def test_creatives_with_images_store_a_png_served_only_to_members(marketer_api, outsider_api, run_tasks_inline):
    response = generate(
        marketer_api,
        run_tasks_inline,
        path="/api/v1/creatives/generate",
        body={"product": "Cold brew", "platforms": ["instagram"], "count": 2, "with_images": True},
    )
    final = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}").json()

    ads = [d for d in final["deliverables"] if d["kind"] == "ad_copy"]
    assert len(ads) == 2
    assert len(ads[0]["metadata"]["image_prompts"]) >= 3
    assert 45 <= len(ads[0]["metadata"]["primary_text"].split()) <= 80
    image_url = ads[0]["assets"]["image_url"]
    assert image_url.startswith("/assets/")
    image = marketer_api.get(image_url)
    assert image.status_code == 200 and b"".join(image.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert outsider_api.get(image_url).status_code == 404


def test_a_redelivered_task_makes_no_duplicate_revision(marketer_api, run_tasks_inline):
    response = generate(marketer_api, run_tasks_inline)
    deliverable = Deliverable.objects.filter(run__run_id=response.data["run_id"]).first()

    deliverable_generate(deliverable_id=str(deliverable.pk))

    assert Revision.objects.filter(deliverable=deliverable).count() == 1
    assert Deliverable.objects.get(pk=deliverable.pk).deliveries == 1


def test_a_task_killed_too_often_ends_as_a_failed_deliverable(marketer_api, run_tasks_inline, settings, monkeypatch):
    from deliverables import tasks

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda *a, **k: None)  # never runs
    response = marketer_api.post("/api/v1/campaigns/generate", {**BRIEF, "deliverables": ["email_copy"]}, format="json")
    deliverable = Deliverable.objects.get(run__run_id=response.data["run_id"])
    Deliverable.objects.filter(pk=deliverable.pk).update(
        generation_status="running", deliveries=settings.AICMO_MAX_TASK_DELIVERIES
    )

    deliverable_generate(deliverable_id=str(deliverable.pk))

    run = Run.objects.get(pk=deliverable.run_id)
    assert run.status == "FAILED"
    assert run.error["type"] == "INTERNAL_ERROR"
    assert "Gave up after 3 attempts" in run.error["message"]


def test_every_provider_down_fails_the_run_with_provider_error(marketer_api, run_tasks_inline, settings):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["offline"]
    response = generate(marketer_api, run_tasks_inline)
    final = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}").json()

    assert validate_envelope(final) == []
    assert final["status"] == "FAILED"
    assert final["error"]["type"] == "PROVIDER_ERROR"
    assert final["error"]["trace_id"] == final["meta"]["trace_id"]
    assert final["deliverables"] == []
    assert len(final["meta"]["warnings"]) == 5
    assert ProviderCall.objects.filter(outcome="skipped").count() == 5
    assert (final["meta"]["provider"], final["meta"]["model"]) == ("none", "")  # no call was made


def test_one_failing_deliverable_makes_a_partial_run(marketer_api, run_tasks_inline, monkeypatch):
    from aicmo.llm.providers import offline

    original = offline.OfflineProvider.complete

    def fail_email(self, request):
        if request.task == "email_copy":
            from aicmo.llm.exceptions import ProviderError

            raise ProviderError("boom", provider="offline")
        return original(self, request)

    monkeypatch.setattr(offline.OfflineProvider, "complete", fail_email)
    response = generate(marketer_api, run_tasks_inline)
    final = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}").json()

    assert validate_envelope(final) == []
    assert final["status"] == "PARTIAL"
    assert len(final["deliverables"]) == 4
    assert final["meta"]["warnings"] == ["email_copy failed: All providers failed: offline: boom"]
    cooldown.reset(cooldown.breaker_key("offline", "offline-templates-v1"))


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "campaign_name"),
        ({"campaign_name": "x", "platforms": ["myspace"]}, "platforms"),
        ({"campaign_name": "x", "budget": -5}, "budget"),
        ({"campaign_name": "x", "timeline_days": 0}, "timeline_days"),
        ({"campaign_name": "x", "brand": "globex"}, "brand"),
        ({"campaign_name": "x", "deliverables": ["poem"]}, "deliverables"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_bad_briefs_answer_400_with_a_failed_envelope_naming_the_field(marketer_api, body, field):
    response = marketer_api.post("/api/v1/campaigns/generate", body, format="json", HTTP_X_TRACE_ID="trace-bad-1")

    assert response.status_code == 400
    assert validate_envelope(response.data) == []
    assert response.data["error"]["type"] == "VALIDATION_ERROR"
    assert field in response.data["error"]["details"]
    assert response.data["error"]["trace_id"] == "trace-bad-1"
    assert Run.objects.count() == 0


def test_malformed_json_is_a_validation_error_not_a_crash(marketer_api):
    response = marketer_api.generic("POST", "/api/v1/campaigns/generate", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.data["error"]["type"] == "VALIDATION_ERROR"


def test_trace_id_is_echoed_in_meta_and_header(marketer_api, run_tasks_inline):
    response = generate(marketer_api, run_tasks_inline, HTTP_X_TRACE_ID="abc-123")
    assert response["X-Trace-ID"] == "abc-123"
    assert response.data["meta"]["trace_id"] == "abc-123"
    assert Run.objects.get().trace_id == "abc-123"


def test_anonymous_gets_401_and_outsiders_get_404(client, marketer_api, outsider_api, run_tasks_inline):
    response = generate(marketer_api, run_tasks_inline)
    run_url = f"/api/v1/runs/{response.data['run_id']}"

    assert client.get(run_url).status_code == 401
    assert client.post("/api/v1/campaigns/generate", BRIEF, content_type="application/json").status_code == 401
    assert outsider_api.get(run_url).status_code == 404
    assert outsider_api.get("/api/v1/runs/").data["count"] == 0
    assert marketer_api.get("/api/v1/runs/?status=success").data["count"] == 1


@pytest.mark.django_db(transaction=True)  # dispatch runs on a real commit, before the answer is built
def test_broker_down_keeps_the_run_pending_with_a_warning(marketer_api, monkeypatch):
    from kombu.exceptions import OperationalError

    from deliverables import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", refuse)
    response = marketer_api.post("/api/v1/campaigns/generate", BRIEF, format="json")
    assert response.status_code == 202
    assert response.data["status"] == "PENDING"
    assert response.data["meta"]["warnings"] == ["The queue was unavailable; the run will start as soon as it is back."]
    assert Run.objects.get().dispatched_at is None


@pytest.mark.django_db(transaction=True)  # a real commit: the dispatch (on_commit) runs inside the request
def test_a_generate_request_stays_at_eleven_sql_queries(marketer, monkeypatch, django_assert_max_num_queries):
    """The enqueue path of `POST /api/v1/campaigns/generate?wait=0` (the API benchmark's request) as the token
    client sends it: token lookup, brand, BEGIN, campaign insert, roles, run insert, one bulk insert of the slots,
    COMMIT, the dispatch stamp, the run as dispatched, its slots. (Before the API benchmark's profile: 20, with a
    savepoint, the budget read again, the slots read back for the dispatch, a locked read of the run's warnings in
    a second transaction, two reads of the run and a separate count.) A regression guard: each query is a round
    trip and ORM work on every generate request."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from deliverables import tasks

    published = []
    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda args, **kwargs: published.append(args))
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")
    with django_assert_max_num_queries(11):
        response = client.post("/api/v1/campaigns/generate?wait=0", BRIEF, format="json")
    assert response.status_code == 202
    assert response.data["status"] == "PENDING" and response.data["progress"] == {"done": 0, "total": 5}
    assert len(published) == 5
    run = Run.objects.get(run_id=response.data["run_id"])
    assert run.dispatched_at is not None and run.warnings == []
