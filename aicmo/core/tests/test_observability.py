"""Structured logs (JSON lines carrying trace_id and run_id, in the web and in a real worker), the verbosity
switch, and /healthz (database and broker)."""

import asyncio
import io
import json
import logging
import subprocess
import sys
import time

import pytest
from django.db import OperationalError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from aicmo.core.logging import ContextFilter
from aicmo.testing.processes import ROOT, free_port
from deliverables.models import Run


@pytest.fixture
def json_log():
    """What the configured console handler (LOGGING's JSON formatter and context filter) writes, as dicts."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, ContextFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_web_request_logs_one_json_line_with_its_trace_id(marketer_api, marketer, json_log):
    response = marketer_api.get("/api/v1/runs/?status=success", HTTP_X_TRACE_ID="trace-web-1")

    assert response.status_code == 200
    [line] = [entry for entry in json_log() if entry["logger"] == "aicmo.request"]
    assert {key: line[key] for key in ("level", "message", "trace_id", "method", "path", "status", "user_id")} == {
        "level": "INFO",
        "message": "request",
        "trace_id": "trace-web-1",
        "method": "GET",
        "path": "/api/v1/runs/",
        "status": 200,
        "user_id": marketer.pk,
    }
    assert isinstance(line["duration_ms"], int) and line["time"]


@pytest.mark.django_db
def test_generation_logs_carry_the_run_id_and_the_trace_id(marketer_api, run_tasks_inline, json_log):
    with run_tasks_inline():
        response = marketer_api.post(
            "/api/v1/campaigns/generate",
            {"campaign_name": "Logs", "platforms": ["email"]},
            format="json",
            HTTP_X_TRACE_ID="trace-gen-1",
        )
    run_id = response.data["run_id"]

    lines = json_log()
    of_run = [entry for entry in lines if entry["run_id"] == run_id]
    assert {entry["message"] for entry in of_run} >= {"llm call ok", "run settled"}
    assert {entry["trace_id"] for entry in of_run} == {"trace-gen-1"}
    assert [entry["trace_id"] for entry in lines if entry["logger"] == "aicmo.request"] == ["trace-gen-1"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_workers_log_lines_for_a_run_carry_its_run_id_and_trace_id(marketer, celery_worker_process):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")

    response = client.post(
        "/api/v1/campaigns/generate?wait=60",
        {"campaign_name": "Worker logs", "platforms": ["email"]},
        format="json",
        HTTP_X_TRACE_ID="trace-worker-1",
    )

    assert response.status_code == 200, celery_worker_process.output()[-2000:]
    run = Run.objects.get(run_id=response.json()["run_id"])
    entries = [json.loads(line) for line in celery_worker_process.output().splitlines() if line.startswith("{")]
    of_run = [entry for entry in entries if entry.get("run_id") == str(run.run_id)]
    assert len([e for e in of_run if e["message"] == "llm call ok"]) == run.deliverables.count() == 3
    assert [e["status"] for e in of_run if e["message"] == "run settled"] == ["SUCCESS"]
    assert {entry["trace_id"] for entry in of_run} == {"trace-worker-1"}
    assert any(e["logger"] == "celery.apps.worker" and e["message"].endswith("ready.") for e in entries)


def _settings_values(**env) -> dict:
    code = (
        "import json; from aicmo.settings import dev as s; "
        "print(json.dumps({'level': s.LOG_LEVEL, 'loggers': {k: v['level'] for k, v in s.LOGGING['loggers']"
        ".items()}}))"
    )
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), **env}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, env=environment, check=True
    )
    return json.loads(result.stdout)


def test_debug_logging_is_off_by_default_and_the_sdks_http_client_stays_quiet():
    values = _settings_values()

    assert values["level"] == "INFO"
    assert {name: values["loggers"][name] for name in ("openai", "anthropic", "httpx2", "httpcore2")} == {
        "openai": "WARNING",
        "anthropic": "WARNING",
        "httpx2": "WARNING",
        "httpcore2": "WARNING",
    }
    assert not logging.getLogger("httpx2").isEnabledFor(logging.INFO)  # this process: the same configuration


def test_aicmo_debug_logging_turns_on_verbose_logs():
    values = _settings_values(AICMO_DEBUG_LOGGING="1")

    assert values["level"] == "DEBUG"
    assert {name: values["loggers"][name] for name in ("deliverables", "openai", "anthropic", "httpx2")} == {
        "deliverables": "DEBUG",
        "openai": "DEBUG",
        "anthropic": "DEBUG",
        "httpx2": "INFO",
    }


@pytest.mark.django_db
def test_an_sdk_call_writes_no_http_client_lines_by_default(marketer_api, run_tasks_inline, sdk_providers, json_log):
    with run_tasks_inline():
        response = marketer_api.post(
            "/api/v1/campaigns/generate",
            {"campaign_name": "Quiet", "platforms": ["email"], "deliverables": ["email_copy"]},
            format="json",
        )

    assert Run.objects.get(run_id=response.data["run_id"]).provider == "openai"
    assert len(sdk_providers.requests_to("openai")) == 1
    assert [e["logger"] for e in json_log() if e["logger"].startswith(("httpx", "httpcore", "openai"))] == []


# --- /healthz ---------------------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/health"])
def test_healthz_answers_200_when_database_and_broker_answer(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_broker_when_it_is_down(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "db": "ok", "broker": "down"}


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_database_when_it_is_down(client, settings, monkeypatch):
    from aicmo.core import health

    class DeadConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DeadConnection())
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "db": "down", "broker": "down"}


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_a_plain_http_probe_by_ip_reaches_healthz_despite_https_redirect_and_allowed_hosts(client, settings):
    settings.SECURE_SSL_REDIRECT, settings.ALLOWED_HOSTS = True, ["aicmo.example.com"]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    probe = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    page = client.get("/api/v1/runs/", HTTP_HOST="aicmo.example.com")

    assert (probe.status_code, probe.json()) == (503, {"status": "degraded", "db": "ok", "broker": "down"})
    assert page.status_code == 301 and page["Location"] == "https://aicmo.example.com/api/v1/runs/"


def test_healthz_pings_a_redis_broker_on_a_kept_connection_and_names_kombus_socket_urls():
    from aicmo.core.health import _redis_url_for_broker

    assert _redis_url_for_broker("redis://h:6379/3") == "redis://h:6379/3"
    assert _redis_url_for_broker("redis+socket:///var/redis.sock?virtual_host=2") == "unix:///var/redis.sock?db=2"
    assert _redis_url_for_broker("amqp://guest@rabbit//") is None


@pytest.mark.django_db
def test_healthz_reuses_one_broker_connection_across_probes(client, settings):
    import redis

    from aicmo.core import redis_clients

    settings.CELERY_BROKER_URL = settings.TEST_REDIS_URL
    observer = redis.Redis.from_url(settings.TEST_REDIS_URL)
    db = str(observer.connection_pool.connection_kwargs.get("db", 0))

    def ours() -> int:  # connections on this worker's database (the private Redis serves the other worker too)
        return sum(1 for c in observer.client_list() if c["db"] == db)

    assert client.get("/healthz").status_code == 200
    clients_after_one = ours()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200

    assert ours() == clients_after_one  # no new connection per probe
    assert len(redis_clients._sync) >= 1


# --- /healthz served under ASGI (aicmo/core/probes.py) ------------------------------------------------------------


def _django_must_not_answer(scope, receive, send):
    raise AssertionError(f"Django was asked for {scope['method']} {scope['path']}")


async def _asgi_call(app, scope) -> tuple[int, dict, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


def asgi_probes(*requests, app=_django_must_not_answer) -> list[tuple[int, dict, bytes]]:
    """(status, headers, body) of each (method, path, headers) request through HealthProbes, on one event loop;
    the loop's kept database connection is closed at the end."""
    from asgiref.sync import async_to_sync

    from aicmo.core import health
    from aicmo.core.probes import HealthProbes

    async def run():
        probes = HealthProbes(app)
        scopes = [{"type": "http", "method": m, "path": p, "headers": h} for m, p, h in requests]
        answers = [await _asgi_call(probes, scope) for scope in scopes]
        kept = health._probe_connections.pop(asyncio.get_running_loop(), None)
        if kept is not None:
            await kept.close()
        return answers

    return async_to_sync(run)()


@pytest.mark.integration
@pytest.mark.django_db
def test_under_asgi_healthz_is_answered_before_django_with_the_views_answer(client):
    ((status, headers, body),) = asgi_probes(("GET", "/healthz", [(b"x-trace-id", b"probe-7")]))
    view = client.get("/healthz")

    assert (
        (status, json.loads(body))
        == (view.status_code, view.json())
        == (200, {"status": "ok", "db": "ok", "broker": "ok"})
    )
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"cache-control"] == view["Cache-Control"].encode()
    assert headers[b"x-trace-id"] == b"probe-7"


@pytest.mark.integration  # PostgreSQL: the loop's own connection (another database is asked on a thread)
@pytest.mark.django_db
def test_under_asgi_healthz_names_what_is_down(settings, monkeypatch):
    from aicmo.core import health

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    broker_down = asgi_probes(("GET", "/health", []))
    monkeypatch.setattr(health, "_probe_params", lambda: {"host": "127.0.0.1", "port": free_port(), "dbname": "x"})
    both_down = asgi_probes(("GET", "/healthz", []))

    assert [(status, json.loads(body)) for status, _, body in broker_down + both_down] == [
        (503, {"status": "degraded", "db": "ok", "broker": "down"}),
        (503, {"status": "degraded", "db": "down", "broker": "down"}),
    ]


@pytest.mark.integration
@pytest.mark.django_db
def test_through_djangos_async_handler_the_middleware_checks_on_the_loop_with_the_same_answer(monkeypatch):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from aicmo.core import health

    monkeypatch.setattr(health, "database_ok", lambda: pytest.fail("a thread was asked"))

    async def run():
        answers = [await AsyncClient().get("/healthz"), await AsyncClient().post("/healthz")]
        await health._probe_connections.pop(asyncio.get_running_loop()).close()
        return answers

    get, post = async_to_sync(run)()
    assert (get.status_code, get.json()) == (200, {"status": "ok", "db": "ok", "broker": "ok"})
    assert "no-cache" in get["Cache-Control"]
    assert post.status_code == 405


def test_under_asgi_other_requests_and_other_methods_go_on_to_django():
    async def django(scope, receive, send):
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": scope["method"].encode() + b" " + scope["path"].encode()})

    answers = asgi_probes(("POST", "/healthz", []), ("GET", "/healthzz", []), ("GET", "/", []), app=django)

    assert [(status, body) for status, _, body in answers] == [
        (418, b"POST /healthz"),
        (418, b"GET /healthzz"),
        (418, b"GET /"),
    ]


@pytest.mark.integration
@pytest.mark.django_db
def test_under_asgi_the_database_check_keeps_one_connection_across_probes():
    from django.db import connection

    def probe_connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # the test's transaction would see one snapshot
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aicmo-healthz' AND datname = %s",
                [connection.settings_dict["NAME"]],
            )
            return cursor.fetchone()[0]

    counted = []

    async def counting_app(scope, receive, send):  # asked between probes, on the same loop
        from asgiref.sync import sync_to_async

        counted.append(await sync_to_async(probe_connections)())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    probes = [("GET", "/healthz", [])] * 5
    answers = asgi_probes(*probes, ("GET", "/count", []), app=counting_app)

    assert [status for status, _, _ in answers] == [200] * 5 + [204]
    assert counted == [1]
    for _ in range(100):  # closed with its loop's probes (asgi_probes); the server's backend ends a moment later
        if probe_connections() == 0:
            break
        time.sleep(0.02)
    assert probe_connections() == 0
