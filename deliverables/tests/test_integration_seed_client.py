"""The seed's own client against a live server (uvicorn as `make run` serves it, a real Celery worker, the test
PostgreSQL and Redis): credentials in `BACKEND_URL`, 200 or failure, then the seed's contract rules."""

import pytest

from aicmo.testing.processes import UVICORN_READY, uvicorn, wait_http
from deliverables.models import Run

from .seed_client import backend_post_json, validate_response

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-123456"

# The payloads of the seed document (§4 and §7).
CAMPAIGN = {
    "campaign_name": "Q1 2025",
    "objectives": ["Awareness", "Lead Generation"],
    "platforms": ["LinkedIn", "Email"],
    "budget": 10000,
    "timeline_days": 90,
}
CREATIVES = {"product": "Cold brew concentrate", "platforms": ["Instagram"], "tone": "playful", "count": 2}


@pytest.fixture(autouse=True)
def _password_the_server_can_check(marketer, settings):
    """The test settings hash with MD5 (fast); the server runs the product's settings (PBKDF2 only)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    marketer.set_password(PASSWORD)
    marketer.save(update_fields=["password"])


@pytest.fixture
def live_server_url(celery_worker_process, tmp_path):
    web = uvicorn(tmp_path / "web.log").start(ready_text=UVICORN_READY)
    try:
        wait_http(web.url + "/healthz")
        yield web.url
    finally:
        web.stop()


def with_credentials(url: str, username: str, password: str) -> str:
    return url.replace("http://", f"http://{username}:{password}@", 1)


def test_the_seed_client_generates_campaigns_and_creatives(marketer, live_server_url, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", with_credentials(live_server_url, "marketer", PASSWORD))

    campaigns = backend_post_json("/api/v1/campaigns/generate", CAMPAIGN, timeout_s=120)
    creatives = backend_post_json("/api/v1/creatives/generate", CREATIVES, timeout_s=120)

    for response, module in ((campaigns, "campaigns"), (creatives, "creatives")):
        assert response.http_status == 200, response.raw_text
        assert validate_response(response) == (True, None)
        assert response.success and response.status == "SUCCESS"
        assert response.module == module
        assert response.meta["provider"] == "offline"
        assert response.error is None
    assert [d["kind"] for d in campaigns.deliverables] == [
        "campaign_brief",
        "messaging_framework",
        "content_calendar",
        "linkedin_post",
        "email_copy",
    ]
    assert [d["kind"] for d in creatives.deliverables] == ["ad_copy", "ad_copy", "instagram_post"]
    ads = [d for d in creatives.deliverables if d["kind"] == "ad_copy"]
    assert all(len(d["metadata"]["image_prompts"]) >= 3 for d in ads)
    runs = Run.objects.filter(requested_by=marketer)
    assert sorted(runs.values_list("status", flat=True)) == ["SUCCESS", "SUCCESS"]
    # The trace id the client sent is the run's (echoed as meta.trace_id).
    assert set(runs.values_list("trace_id", flat=True)) == {campaigns.trace_id, creatives.trace_id}


def test_a_wrong_password_fails_cleanly(marketer, live_server_url, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", with_credentials(live_server_url, "marketer", "not-the-password"))

    response = backend_post_json("/api/v1/campaigns/generate", CAMPAIGN)

    assert response.http_status == 401
    assert not response.success and response.status == "FAILED"
    assert response.error["message"] == "Backend returned HTTP 401"
    assert "Invalid username/password." in response.raw_text
    assert validate_response(response) == (False, "run_id must be a non-empty string")
    assert Run.objects.count() == 0
