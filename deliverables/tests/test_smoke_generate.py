"""`manage.py smoke_generate` (contract §8): exit codes against tiny local servers that misbehave, and the whole
smoke test against a live server with a real worker."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import free_port
from deliverables.envelope import failed_envelope, validate_envelope

pytestmark = pytest.mark.django_db

KEY = "sk-test-SECRET-smoke-0123456789"


def smoke(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("smoke_generate", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


@contextmanager
def backend(answer):
    """A one-route HTTP server: `answer(path, headers) -> (status, body bytes)` for every request."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
            status, payload = answer(self.path, self.headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Trace-ID", self.headers.get("X-Trace-ID", ""))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _reply

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_backend_exits_2(marketer):
    code, output = smoke("--url", f"http://127.0.0.1:{free_port()}")

    assert code == 2
    assert "✅ Backend URL configured" in output
    assert "❌ Cannot reach the backend at http://127.0.0.1:" in output
    assert "Is the server running?" in output


def test_a_contract_breaking_answer_exits_3(marketer):
    def success_without_deliverables(path, headers):
        envelope = failed_envelope(
            module="campaigns", error_type="PROVIDER_ERROR", message="x", trace_id=headers["X-Trace-ID"]
        )
        envelope.update(status="SUCCESS", error=None)
        return 200, json.dumps(envelope).encode()

    with backend(success_without_deliverables) as (url, seen):
        code, output = smoke("--url", url, "--wait", "5")

    assert code == 3
    assert "  ❌ a SUCCESS must have at least one deliverable" in output
    assert "❌ The answer breaks the envelope contract (1 problem(s))." in output
    request = seen[0]
    assert (request["method"], request["path"]) == ("POST", "/api/v1/campaigns/generate?wait=5")
    assert request["headers"]["Authorization"] == f"Token {Token.objects.get(user=marketer).key}"
    assert json.loads(request["body"])["platforms"] == ["LinkedIn", "Email"]


def test_an_answer_that_is_not_json_exits_3(marketer):
    with backend(lambda path, headers: (200, b"<html>hello</html>")) as (url, _):
        code, output = smoke("--url", url)

    assert code == 3
    assert "❌ The answer (200) is not JSON: b'<html>hello</html>'" in output


def test_an_error_status_exits_2(marketer):
    def overloaded(path, headers):
        return 503, json.dumps({"detail": "Service unavailable"}).encode()

    with backend(overloaded) as (url, _):
        code, output = smoke("--url", url)

    assert code == 2
    assert "❌ The endpoint answered 503 (Service unavailable)." in output


def test_a_failed_run_exits_3_with_its_error(marketer):
    def failed(path, headers):
        envelope = failed_envelope(
            module="campaigns",
            error_type="PROVIDER_ERROR",
            trace_id=headers["X-Trace-ID"],
            message="All providers failed: openai: HTTP 503 from openai",
        )
        return 200, json.dumps(envelope).encode()

    with backend(failed) as (url, _):
        code, output = smoke("--url", url)

    assert code == 3
    assert "❌ The run FAILED (PROVIDER_ERROR: All providers failed: openai: HTTP 503 from openai)." in output
    assert "ALL TESTS PASSED" not in output


def finished_envelope(trace_id: str, *, status: str = "SUCCESS", provider: str = "openai", warnings=()) -> dict:
    """A run that ended with one campaign brief made by `provider` (valid by the contract's validator)."""
    envelope = failed_envelope(module="campaigns", error_type="PROVIDER_ERROR", message="x", trace_id=trace_id)
    envelope.update(status=status, error=None, progress={"done": 2, "total": 2})
    envelope["meta"].update(provider=provider, model="m", cost_usd=0.0, warnings=list(warnings))
    envelope["deliverables"] = [
        {
            "id": "d1",
            "kind": "campaign_brief",
            "title": "Brief",
            "content_markdown": "# Brief",
            "platform": None,
            "hashtags": [],
            "status": "draft",
            "version": 1,
            "assets": {"image_url": None, "image_base64": None, "file_url": None, "slides": None},
            "metadata": {"provider": provider, "model": "m", "tokens_used": 1, "cost_usd": 0.0},
        }
    ]
    return envelope


def test_a_partial_run_exits_3_naming_what_failed(marketer):
    warning = "email_copy failed: All providers failed: openai: timed out"

    def partial(path, headers):
        envelope = finished_envelope(headers["X-Trace-ID"], status="PARTIAL", warnings=[warning])
        assert validate_envelope(envelope) == []
        return 200, json.dumps(envelope).encode()

    with backend(partial) as (url, _):
        code, output = smoke("--url", url)

    assert code == 3
    assert f"❌ The run is PARTIAL: {warning}." in output
    assert "❌ SMOKE TEST FAILED" in output
    assert "ALL TESTS PASSED" not in output


def offline_success(path, headers):
    return 200, json.dumps(finished_envelope(headers["X-Trace-ID"], provider="offline")).encode()


def test_offline_answering_while_a_key_is_configured_exits_3(marketer, settings):
    settings.OPENAI_API_KEY = KEY

    with backend(offline_success) as (url, _):
        code, output = smoke("--url", url)

    assert code == 3
    assert (
        "❌ The offline provider answered although openai is configured here: is the key valid, and does the "
        "server have it? (--allow-offline accepts this.)"
    ) in output
    assert KEY not in output


def test_allow_offline_accepts_offline_answers_with_a_warning(marketer, settings):
    settings.OPENAI_API_KEY = KEY

    with backend(offline_success) as (url, _):
        code, output = smoke("--url", url, "--allow-offline")

    assert code == 0
    assert "⚠️  The offline provider answered although openai is configured here" in output
    assert output.splitlines()[-2] == "✅ ALL TESTS PASSED"


def test_offline_answering_with_no_key_configured_passes(marketer):
    with backend(offline_success) as (url, _):
        code, output = smoke("--url", url)

    assert code == 0, output
    assert "offline provider answered" not in output
    assert output.splitlines()[-2] == "✅ ALL TESTS PASSED"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--url", "ftp://example.com"),
            "❌ The backend URL must look like http://127.0.0.1:8000, not 'ftp://example.com'.",
        ),
        (
            ("--url", "http://127.0.0.1:1", "--user", "nobody"),
            "❌ No user named 'nobody': run `manage.py seed_demo` or pass --user.",
        ),
    ],
)
def test_configuration_problems_exit_1(marketer, args, message):
    code, output = smoke(*args)

    assert code == 1
    assert message in output


def test_no_provider_configured_exits_1(marketer, settings):
    settings.AICMO_DEV_STUBS = False

    code, output = smoke("--url", "http://127.0.0.1:1")

    assert code == 1
    assert "❌ No LLM provider is configured" in output


def test_backend_url_comes_from_the_environment_and_keys_are_never_printed(marketer, settings, monkeypatch):
    settings.OPENAI_API_KEY = KEY
    port = free_port()
    monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{port}/")

    code, output = smoke()

    assert code == 2
    assert f"✅ Backend URL configured: http://127.0.0.1:{port}\n" in output
    assert "  ✅ OPENAI_API_KEY configured" in output
    assert "  ❌ ANTHROPIC_API_KEY not set" in output
    assert "in chain order: openai, offline" in output
    assert KEY not in output


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_smoke_test_passes_against_a_live_server_with_a_real_worker(marketer, live_server, celery_worker_process):
    code, output = smoke("--url", live_server.url, "--wait", "60")

    assert code == 0, output + celery_worker_process.output()[-2000:]
    lines = output.splitlines()
    assert lines[-2] == "✅ ALL TESTS PASSED"
    assert "✅ Endpoint responded with 200" in lines
    assert "✅ All contract checks passed" in lines
    assert "Provider: offline" in lines and "Model: offline-templates-v1" in lines
    assert "Deliverables: 5" in lines
    kinds = [line.split("] ", 1)[1].split(" | ")[0] for line in lines if line.startswith("  [")]
    assert kinds == ["campaign_brief", "messaging_framework", "content_calendar", "linkedin_post", "email_copy"]
    assert Token.objects.filter(user=marketer).count() == 1
