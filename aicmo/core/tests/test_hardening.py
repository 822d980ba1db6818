"""Hardening: production settings pass `check --deploy`, log-in and generate throttles, request size limits, files
served only to brand members, and secrets that appear nowhere (logs, errors, admin, envelopes, rows)."""

import json
import logging
import os
import secrets
import subprocess
import sys

import pytest
from django.views.debug import SafeExceptionReporterFilter
from rest_framework.throttling import ScopedRateThrottle

from aicmo.core import limits
from aicmo.testing.fake_llm_server import Reply
from aicmo.testing.processes import ROOT
from brands.tests.factories import UserFactory
from campaigns.models import Campaign
from deliverables.models import Asset, Deliverable, ProviderCall, Revision, Run

GENERATE = "/api/v1/campaigns/generate"
BRIEF = {"campaign_name": "Q1 Launch", "platforms": ["email"], "deliverables": ["email_copy"]}


# --- production settings -------------------------------------------------------------------------------------


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AICMO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    environment.update(DJANGO_SETTINGS_MODULE="aicmo.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_a_single_warning():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="aicmo.example.com",
        REDIS_URL="redis://redis:6379/0",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_production_refuses_to_start_on_make_runs_embedded_redis():
    result = _manage("check", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="aicmo.example.com")

    assert result.returncode == 1
    assert "ImproperlyConfigured: REDIS_URL (or a Redis CELERY_BROKER_URL) must be set in production." in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_ALLOWED_HOSTS="aicmo.example.com")

    assert result.returncode == 1
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set in production." in result.stderr


# --- log-in throttling ---------------------------------------------------------------------------------------


@pytest.fixture
def login(client):
    def attempt(username: str, password: str, ip: str = "10.0.0.1", path: str = "/accounts/login/"):
        return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)

    return attempt


LOCKED = "Too many failed log-ins from your address. Wait 15 minutes and try again."


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 5
    return 5


@pytest.mark.django_db
def test_failed_logins_lock_the_address_with_429_and_retry_after(login, marketer, client, limit):
    for _ in range(limit - 1):
        response = login("marketer", "wrong-password")
        assert response.status_code == 200 and LOCKED not in response.content.decode()

    locked = login("marketer", "wrong-password")  # the limit-th failure locks
    again = login("marketer", "pw-123456")  # even the right password

    for response in (locked, again):
        assert response.status_code == 429
        assert response["Retry-After"] == "900"
        assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_spraying_usernames_from_one_address_is_limited_too(login, marketer, manager, limit):
    for n in range(limit):
        login(f"someone-{n}", "guess")

    assert login("manager", "pw-123456").status_code == 429


@pytest.mark.django_db
def test_a_stranger_cannot_lock_an_account_from_elsewhere(login, marketer, client, limit):
    for _ in range(limit + 2):
        login("marketer", "wrong-password", ip="203.0.113.66")

    assert login("marketer", "pw-123456", ip="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_client_address_counts_not_the_proxy(marketer, client, settings, limit):
    settings.AICMO_TRUSTED_PROXIES = 1
    proxy = "10.9.9.9"

    def attempt(password: str, client_ip: str):
        # The client may forge entries on the left; the proxy appends the address it saw.
        forwarded = f"1.2.3.4, {client_ip}"
        return client.post(
            "/accounts/login/",
            {"username": "marketer", "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(limit):
        attempt("wrong-password", "203.0.113.7")

    assert attempt("pw-123456", "203.0.113.7").status_code == 429
    assert attempt("pw-123456", "198.51.100.4").status_code == 302  # another client through the same proxy


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(login, marketer, client, limit):
    for _ in range(limit - 1):
        login("marketer", "wrong-password")
    assert login("marketer", "pw-123456").status_code == 302
    client.logout()
    for _ in range(limit - 1):
        login("marketer", "wrong-password")

    assert login("marketer", "pw-123456").status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_locked_too(login, manager, client, limit):
    for _ in range(limit):
        login("manager", "wrong-password", path="/admin/login/")

    locked = login("manager", "pw-123456", path="/admin/login/")

    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert "_auth_user_id" not in client.session


# --- the generate throttle ------------------------------------------------------------------------------------


@pytest.fixture
def two_per_minute(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"generate": "2/min"})


@pytest.mark.django_db
def test_generate_is_throttled_per_user_with_429_retry_after_and_a_failed_envelope(
    two_per_minute, marketer_api, manager_api, run_tasks_inline
):
    with run_tasks_inline():
        assert [marketer_api.post(GENERATE, BRIEF, format="json").status_code for _ in range(2)] == [202, 202]

    response = marketer_api.post(GENERATE, BRIEF, format="json", HTTP_X_TRACE_ID="trace-429")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    body = response.json()
    assert body["status"] == "FAILED"
    assert body["error"] == {
        "type": "RATE_LIMIT",
        "trace_id": "trace-429",
        "message": f"Too many generate requests: try again in {response['Retry-After']} seconds.",
    }
    assert Run.objects.count() == 2
    with run_tasks_inline():
        assert manager_api.post(GENERATE, BRIEF, format="json").status_code == 202  # another user's own budget


@pytest.mark.django_db
def test_generate_is_let_through_when_the_throttle_cache_is_down(
    two_per_minute, marketer_api, monkeypatch, run_tasks_inline
):
    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(limits, "_eval", down)

    with run_tasks_inline():
        codes = [marketer_api.post(GENERATE, BRIEF, format="json").status_code for _ in range(3)]
        codes.append(marketer_api.post(GENERATE + "?wait=0.5", BRIEF, format="json").status_code)

    assert codes == [202, 202, 202, 202]  # the long-wait cap fails open too
    assert Run.objects.count() == 4


# --- request size ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_oversized_json_body_answers_413_with_a_failed_envelope_and_saves_nothing(marketer_api):
    body = json.dumps({**BRIEF, "audience": "x" * (1024 * 1024)})  # over the default 1 MiB

    response = marketer_api.generic(
        "POST", GENERATE, body, content_type="application/json", HTTP_X_TRACE_ID="trace-big"
    )

    assert response.status_code == 413
    envelope = response.json()
    assert envelope["status"] == "FAILED" and envelope["module"] == "campaigns"
    assert envelope["error"] == {
        "type": "VALIDATION_ERROR",
        "trace_id": "trace-big",
        "message": "The request body is larger than the limit of 1048576 bytes.",
        "details": {"body": ["The request body is larger than the limit of 1048576 bytes."]},
    }
    assert (Run.objects.count(), Campaign.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_an_oversized_body_elsewhere_answers_413_in_json(marketer_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = marketer_api.generic(
        "PATCH",
        "/api/v1/deliverables/00000000-0000-4000-8000-000000000000",
        json.dumps({"content_markdown": "x" * 200, "version": 1}),
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than the limit of 100 bytes.", "code": "too_large"}


@pytest.mark.django_db
def test_multipart_uploads_have_their_own_larger_limit(marketer_api, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.AICMO_MAX_UPLOAD_BYTES = 100, 2000

    def post(size: int):
        upload = SimpleUploadedFile("brief.txt", b"x" * size, content_type="text/plain")
        return marketer_api.post(GENERATE, {"campaign_name": "Q1", "attachment": upload}, format="multipart")

    assert post(500).status_code == 202  # over the JSON limit, within the upload limit
    assert post(3000).status_code == 413
    assert Run.objects.count() == 1


# --- files --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_generated_images_are_served_only_to_members_of_the_brand(
    marketer_api, manager_api, outsider_api, client, run_tasks_inline
):
    with run_tasks_inline():
        marketer_api.post("/api/v1/creatives/generate", {"product": "Cold brew", "with_images": True}, format="json")
    asset = Asset.objects.get()
    url = f"/assets/{asset.pk}/file"

    for member in (marketer_api, manager_api):
        response = member.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, max-age=3600"
        assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert outsider_api.get(url).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(f"/media/{asset.file.name}").status_code == 404  # storage is never served directly
    assert marketer_api.get(f"/assets/{Deliverable.objects.get().pk}/file").status_code == 404


# --- secrets -------------------------------------------------------------------------------------------------

SECRET = "sk-test-SECRET-hardening-7f3a9c2e1b"


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def every_log_record():
    """Every record at DEBUG, SDK and HTTP-client loggers included (as with AICMO_DEBUG_LOGGING)."""
    names = ("", "openai", "anthropic", "httpx2", "httpcore2", "aicmo", "deliverables", "campaigns", "django")
    previous = {name: logging.getLogger(name).level for name in names}
    handler = _Records()
    logging.getLogger().addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler.records
    logging.getLogger().removeHandler(handler)
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.django_db
def test_a_provider_key_appears_in_no_log_error_admin_page_envelope_or_row(
    settings, fake, marketer_api, run_tasks_inline, every_log_record, client
):
    settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = SECRET, fake.openai_base_url
    settings.AICMO_LLM_PRIMARY_PROVIDER, settings.AICMO_LLM_FALLBACK_PROVIDERS = "openai", ["openai"]
    quoted = {
        "error": {
            "message": f"Incorrect API key provided: {SECRET}.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    fake.enqueue(
        "openai", Reply(status=401, body=quoted), Reply(status=500, body=f"upstream said {SECRET}"), Reply(garbage=True)
    )
    body = {
        "campaign_name": "Leak check",
        "platforms": ["linkedin", "email"],
        "deliverables": ["campaign_brief", "linkedin_post", "email_copy"],
    }

    with run_tasks_inline():
        response = marketer_api.post(GENERATE, body, format="json")
    envelope = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}").json()

    assert envelope["status"] == "FAILED"
    assert [r.headers["authorization"] for r in fake.requests_to("openai")] == [f"Bearer {SECRET}"] * 3
    assert SECRET not in json.dumps(envelope) + json.dumps(response.data)
    assert len(every_log_record) > 10
    for record in every_log_record:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        assert SECRET not in text, record.name
    rows = [list(model.objects.values()) for model in (Run, Deliverable, Revision, ProviderCall, Campaign)]
    assert SECRET not in json.dumps(rows, default=str)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    run, call = Run.objects.get(), ProviderCall.objects.first()
    for page in (
        "/admin/",
        "/admin/deliverables/run/",
        f"/admin/deliverables/run/{run.pk}/change/",
        "/admin/deliverables/providercall/",
        f"/admin/deliverables/providercall/{call.pk}/change/",
        "/admin/deliverables/deliverable/",
    ):
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert SECRET not in answer.content.decode(), page
    # Error pages (dev's technical 500 page included) show settings through this filter: keys are masked.
    safe = SafeExceptionReporterFilter().get_safe_settings()
    assert {safe[name] for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "SECRET_KEY")} == {
        SafeExceptionReporterFilter.cleansed_substitute
    }


# --- API docs under the content security policy ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_docs_load_only_our_own_scripts_so_the_csp_does_not_block_them(client):
    import re

    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert len(sources) == 3
    assert all(src.startswith(("/static/drf_spectacular_sidecar/", "/api/docs/?script=")) for src in sources)
    assert "<script>" not in html  # no inline script
    assert "cdn" not in html
    script = client.get(sources[-1])
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
