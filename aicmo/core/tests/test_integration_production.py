"""The production shape (docker-compose's services, as processes): gunicorn, a Celery worker and a separate
celery beat on PostgreSQL and Redis with `aicmo.settings.production`. A campaign goes through generate → amend →
submit → approve (as a manager) → export over HTTP with token auth; then everything stops cleanly on SIGTERM."""

import json
import secrets
import urllib.error
import urllib.request
from email.message import Message

import pytest
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import celery_beat, celery_worker, flush_redis, gunicorn, wait_http
from deliverables.envelope import validate_envelope

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def call(
    method: str, url: str, token: str, body: dict | None = None, *, trace_id: str = ""
) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive: uvicorn sends them in lower case) and body."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    if trace_id:
        headers["X-Trace-ID"] = trace_id
    request = urllib.request.Request(
        url, method=method, headers=headers, data=json.dumps(body).encode() if body is not None else None
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_generate_amend_submit_approve_export_on_gunicorn_worker_and_beat(marketer, manager, tmp_path):
    flush_redis()
    env = {
        "DJANGO_SETTINGS_MODULE": "aicmo.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "AICMO_DEV_STUBS": "1",
        "AICMO_SWEEP_INTERVAL_S": "1",
    }
    web = gunicorn(tmp_path / "web.log", workers=2, **env)
    worker = celery_worker(tmp_path / "worker.log", concurrency=2, **env)
    beat = celery_beat(tmp_path / "beat.log", **env)
    processes = [web, worker, beat]
    try:
        web.start(ready_text="Booting worker")
        worker.start(ready_text="ready.")
        beat.start(ready_text="beat: Starting...")
        wait_http(web.url + "/healthz")
        marketer_token = Token.objects.create(user=marketer).key
        manager_token = Token.objects.create(user=manager).key
        api = web.url + "/api/v1"

        status, headers, raw = call(
            "POST",
            f"{api}/campaigns/generate?wait=60",
            marketer_token,
            {
                "campaign_name": "Production shape",
                "platforms": ["LinkedIn", "Email"],
                "budget": 2500,
            },
            trace_id="trace-prod-1",
        )
        assert status == 200, worker.output()[-3000:]
        envelope = json.loads(raw)
        assert validate_envelope(envelope) == []
        assert (envelope["status"], envelope["meta"]["provider"], envelope["meta"]["trace_id"]) == (
            "SUCCESS",
            "offline",
            "trace-prod-1",
        )
        assert headers["X-Trace-ID"] == "trace-prod-1"
        policy = set(headers["Content-Security-Policy"].split("; "))
        assert {"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} <= policy
        assert (headers["X-Frame-Options"], headers["X-Content-Type-Options"]) == ("DENY", "nosniff")
        post = next(d for d in envelope["deliverables"] if d["kind"] == "linkedin_post")
        item = f"{api}/deliverables/{post['id']}"

        status, _, raw = call(
            "PATCH",
            item,
            marketer_token,
            {"content_markdown": "Roasted Monday, yours by Friday.", "version": 1, "note": "Shorter"},
        )
        assert (status, json.loads(raw)["version"]) == (200, 2)
        status, _, raw = call("POST", item + "/submit", marketer_token, {"comment": "Ready"})
        assert (status, json.loads(raw)["status"]) == (200, "in_review")
        assert call("POST", item + "/approve", marketer_token, {})[0] == 403  # marketers cannot approve
        status, _, raw = call("POST", item + "/approve", manager_token, {"comment": "Ship it"})
        assert (status, json.loads(raw)["status"]) == (200, "approved")

        status, headers, raw = call(
            "GET", f"{api}/runs/{envelope['run_id']}/export?format=md&approved_only=1", marketer_token
        )
        assert status == 200
        assert headers["Content-Disposition"].startswith("attachment")
        exported = raw.decode()
        assert "Roasted Monday, yours by Friday." in exported
        others = [d for d in envelope["deliverables"] if d["id"] != post["id"]]
        assert not any(d["content_markdown"][:60] in exported for d in others)  # approved only

        worker.wait_for("Task deliverables.tasks.requeue_stuck_runs[", timeout_s=30)  # beat → broker → worker
        assert "Sending due task requeue-stuck-runs (deliverables.tasks.requeue_stuck_runs)" in beat.output()
        web_lines = [json.loads(line) for line in web.output().splitlines() if line.startswith('{"')]
        assert any(line.get("trace_id") == "trace-prod-1" and line["logger"] == "aicmo.request" for line in web_lines)
    finally:
        codes = {process.name: process.stop(timeout_s=30) for process in reversed(processes)}
    assert codes == {"celery beat": 0, "celery worker": 0, "gunicorn": 0}, {
        p.name: p.output()[-1500:] for p in processes
    }
