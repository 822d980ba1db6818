"""Recovery drills with real processes on PostgreSQL and Redis: the broker down when a brief arrives, a worker
killed in the middle of an LLM call, and a deliverable whose worker dies every time."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from aicmo.testing.fake_llm_server import FakeLLMServer, Reply
from aicmo.testing.processes import (
    REDIS_READY,
    ROOT,
    celery_worker,
    flush_redis,
    gunicorn,
    process_env,
    redis_server,
    wait_http,
)
from deliverables.envelope import validate_envelope
from deliverables.models import Deliverable, ProviderCall, Revision, Run
from deliverables.services.provider_calls import INTERRUPTED_BY_WORKER

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUEUE_WARNING = "The queue was unavailable; the run will start as soon as it is back."


def http(method: str, url: str, *, token: str | None = None, body: dict | None = None, timeout_s: float = 90):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})}
    request = urllib.request.Request(
        url, method=method, headers=headers, data=json.dumps(body).encode() if body is not None else None
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def wait_until(predicate, *, timeout_s: float, what: str, log=lambda: ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout_s}s\n{log()[-3000:]}")


def test_a_brief_sent_while_the_broker_is_down_runs_once_the_sweeper_finds_it(marketer, tmp_path):
    redis = redis_server(tmp_path / "redis.log").start(ready_text=REDIS_READY)
    broker = {"REDIS_URL": redis.url, "CELERY_BROKER_URL": redis.url}
    web = gunicorn(tmp_path / "web.log", workers=1, **broker).start(ready_text="Booting worker")
    worker = None
    try:
        wait_http(web.url + "/healthz")
        token = Token.objects.create(user=marketer).key

        redis.stop()
        assert http("GET", web.url + "/healthz")[::2] == (503, {"status": "degraded", "db": "ok", "broker": "down"})
        status, headers, envelope = http(
            "POST",
            web.url + "/api/v1/campaigns/generate?wait=0",  # the run cannot start: answer at once
            token=token,
            body={
                "campaign_name": "Broker drill",
                "platforms": ["linkedin"],
                "deliverables": ["campaign_brief", "linkedin_post"],
            },
        )

        assert status == 202, web.output()[-3000:]
        assert validate_envelope(envelope) == []
        assert (envelope["status"], envelope["meta"]["warnings"]) == ("PENDING", [QUEUE_WARNING])
        run = Run.objects.get(run_id=envelope["run_id"])
        assert run.dispatched_at is None
        assert set(run.deliverables.values_list("generation_status", "deliveries")) == {("pending", 0)}

        redis.start(ready_text=REDIS_READY)  # back, on the same port, empty
        worker = celery_worker(tmp_path / "worker.log", concurrency=2, **broker).start(ready_text="ready.")
        Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=1))
        sweep = subprocess.run(
            [sys.executable, "manage.py", "requeue_stuck_runs"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env=process_env(**broker),
        )

        assert sweep.returncode == 0, sweep.stderr
        assert "dispatched 1 run(s) that were never queued" in sweep.stdout
        status, _, final = http("GET", f"{web.url}{headers['Location']}?wait=60", token=token)
        assert status == 200, worker.output()[-3000:]
        assert validate_envelope(final) == []
        assert final["status"] == "SUCCESS"
        assert [d["kind"] for d in final["deliverables"]] == ["campaign_brief", "linkedin_post"]
        assert QUEUE_WARNING not in final["meta"]["warnings"]  # queued since: warnings describe the final state
        assert Revision.objects.filter(deliverable__run=run).count() == 2
        assert http("GET", web.url + "/healthz")[::2] == (200, {"status": "ok", "db": "ok", "broker": "ok"})
    finally:
        if worker:
            worker.stop()
        web.stop()
        redis.stop()


def _openai_worker_env(fake: FakeLLMServer, **extra: str) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake.openai_base_url,
        "AICMO_LLM_PRIMARY_PROVIDER": "openai",
        "AICMO_LLM_FALLBACK_PROVIDERS": "openai",  # openai only
        "AICMO_BROKER_VISIBILITY_TIMEOUT": "5",
        "AICMO_BROKER_RESTORE_INTERVAL_S": "1",
        **extra,
    }


def _start_run(marketer, kinds: list[str]) -> Run:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(marketer)
    response = client.post(
        "/api/v1/campaigns/generate",
        {"campaign_name": "Kill drill", "platforms": ["email"], "deliverables": kinds},
        format="json",
    )
    assert response.status_code == 202
    return Run.objects.get(run_id=response.data["run_id"])


def test_a_worker_killed_mid_call_is_redelivered_and_the_run_completes_without_duplicates(marketer, tmp_path):
    flush_redis()
    with FakeLLMServer(latency_s=2.0) as fake:
        env = _openai_worker_env(fake)
        first = celery_worker(tmp_path / "worker1.log", concurrency=2, **env).start(ready_text="ready.")
        try:
            run = _start_run(marketer, ["campaign_brief", "email_copy"])
            wait_until(
                lambda: len(fake.requests_to("openai")) == 2,
                timeout_s=30,
                what="both LLM calls started",
                log=first.output,
            )
            first.kill()  # SIGKILL of the worker and its pool children, both calls in flight
            assert set(run.deliverables.values_list("generation_status", "deliveries", "version")) == {
                ("running", 1, 0)
            }

            second = celery_worker(tmp_path / "worker2.log", concurrency=2, **env).start(ready_text="ready.")
            try:
                wait_until(
                    lambda: Run.objects.get(pk=run.pk).is_terminal,
                    timeout_s=60,
                    what="the run settled",
                    log=second.output,
                )
            finally:
                second.stop()
        finally:
            first.stop()

    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert (run.provider, run.model) == ("openai", "gpt-4.1-mini")
    slots = run.deliverables.order_by("position")
    assert [(d.kind, d.generation_status, d.version, d.deliveries) for d in slots] == [
        ("campaign_brief", "done", 1, 2),
        ("email_copy", "done", 1, 2),
    ]
    assert Revision.objects.filter(deliverable__run=run).count() == 2
    assert len(fake.requests_to("openai")) == 4  # each slot: the killed call and the redelivered one
    # Every call made has its row: the killed ones were written "started" and marked when the slot came back.
    assert sorted(ProviderCall.objects.filter(run=run).values_list("use_case", "outcome", "error_message")) == [
        ("campaign_brief", "interrupted", INTERRUPTED_BY_WORKER),
        ("campaign_brief", "ok", ""),
        ("email_copy", "interrupted", INTERRUPTED_BY_WORKER),
        ("email_copy", "ok", ""),
    ]


def test_a_deliverable_whose_worker_dies_every_time_ends_failed_and_the_run_partial(marketer, tmp_path):
    flush_redis()
    with FakeLLMServer() as fake:
        fake.enqueue("openai", Reply(), Reply(delay_s=60))  # the brief answers at once, the email never does
        env = _openai_worker_env(fake, AICMO_MAX_TASK_DELIVERIES="1")
        first = celery_worker(tmp_path / "worker1.log", concurrency=1, **env).start(ready_text="ready.")
        try:
            run = _start_run(marketer, ["campaign_brief", "email_copy"])
            wait_until(
                lambda: len(fake.requests_to("openai")) == 2,
                timeout_s=30,
                what="the email's LLM call",
                log=first.output,
            )
            first.kill()

            second = celery_worker(tmp_path / "worker2.log", concurrency=1, **env).start(ready_text="ready.")
            try:
                wait_until(
                    lambda: Run.objects.get(pk=run.pk).is_terminal,
                    timeout_s=60,
                    what="the run settled",
                    log=second.output,
                )
            finally:
                second.stop()
        finally:
            first.stop()
        assert len(fake.requests_to("openai")) == 2  # the redelivery gave up without calling again

    run.refresh_from_db()
    message = "Gave up after 1 attempts: the worker stopped each time."
    assert run.status == Run.Status.PARTIAL
    assert run.warnings == [f"email_copy failed: {message}"]
    email = run.deliverables.get(kind="email_copy")
    assert (email.generation_status, email.deliveries, email.error) == (
        Deliverable.Generation.FAILED,
        2,
        {"type": "INTERNAL_ERROR", "message": message},
    )
    assert run.deliverables.get(kind="campaign_brief").generation_status == Deliverable.Generation.DONE
    assert sorted(ProviderCall.objects.filter(run=run).values_list("use_case", "outcome")) == [
        ("campaign_brief", "ok"),
        ("email_copy", "interrupted"),  # the call the killed worker had under way
    ]


# --- the drill: 200 generate calls while the worker is SIGKILLed twice and beat once --------------------------------

DRILL_RUNS = 200
DRILL_KINDS = ["email_copy"]  # one slot per run: 200 slots keep the drill near a minute per shape


def _sqlite_make_run_database(var, env) -> str:
    """`make run`'s own set-up on a fresh SQLite file: migrate, seed_demo, and the marketer's API token."""
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run(
        [sys.executable, "manage.py", "drf_create_token", "marketer"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()[2]  # "Generated token <key> for user marketer"


@pytest.mark.parametrize("shape", ["make-run: SQLite + embedded Redis", "production: PostgreSQL + Redis"])
def test_200_generate_calls_all_succeed_while_the_worker_is_killed_twice_and_beat_once(shape, marketer, tmp_path):
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings
    from django.db import connection

    from aicmo.testing.processes import (
        devserver,
        embedded_env,
        free_port,
        make_run_processes,
        short_var_dir,
        supervised_pid,
    )

    embedded = shape.startswith("make-run")
    port = free_port()
    with FakeLLMServer(latency_s=0.05) as fake:
        drill_env = {
            **_openai_worker_env(fake),
            "AICMO_GENERATE_RATE": "100000/min",
            "AICMO_SWEEP_INTERVAL_S": "2",
            "AICMO_RUN_STUCK_AFTER_S": "30",
        }
        var = short_var_dir()
        if embedded:
            database = var / "db.sqlite3"
            env = embedded_env(var, DATABASE_URL=f"sqlite:///{database}", **drill_env)
            token = _sqlite_make_run_database(var, env)

            def query(sql: str) -> list[tuple]:
                with sqlite3.connect(database) as db:
                    return db.execute(sql).fetchall()
        else:
            flush_redis()
            env = process_env(AICMO_VAR_DIR=str(var), **drill_env)  # REDIS_URL: the test Redis database
            token = Token.objects.create(user=marketer).key

            def query(sql: str) -> list[tuple]:
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                    return cursor.fetchall()

        supervisor = devserver(
            tmp_path / "devserver.log",
            processes=make_run_processes(port, concurrency=4, web="uvicorn" if embedded else "gunicorn"),
            env=env,
        )
        supervisor.start(ready_text=" ready.", timeout_s=120)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(url + "/healthz")
            body = {"campaign_name": "Drill", "platforms": ["email"], "deliverables": DRILL_KINDS}

            def generate(_):
                return http("POST", url + "/api/v1/campaigns/generate?wait=0", token=token, body=body)[0]

            statuses = []
            with ThreadPoolExecutor(max_workers=8) as pool:
                for victim in (" worker ", " beat", " worker ", None):
                    statuses += pool.map(generate, range(DRILL_RUNS // 4))
                    if victim is None:
                        break
                    calls = len(fake.requests_to("openai"))
                    wait_until(
                        lambda calls=calls: len(fake.requests_to("openai")) >= calls + 4,  # the worker is busy now
                        timeout_s=60,
                        what="LLM calls in flight",
                        log=supervisor.output,
                    )
                    os.killpg(supervised_pid(supervisor, victim), signal.SIGKILL)
            assert statuses == [202] * DRILL_RUNS

            def settled() -> bool:
                return (
                    query("SELECT COUNT(*) FROM deliverables_run WHERE status IN ('SUCCESS','PARTIAL','FAILED')")[0][0]
                    == DRILL_RUNS
                )

            wait_until(settled, timeout_s=150, what="every run settled", log=supervisor.output)
            output = supervisor.output()
        finally:
            supervisor.stop()

    assert "make run: worker was killed by SIGKILL; restarting it (1/5 within 60 s)" in output
    assert "make run: worker was killed by SIGKILL; restarting it (2/5 within 60 s)" in output
    assert "make run: beat was killed by SIGKILL; restarting it (1/5 within 60 s)" in output
    assert query("SELECT status, COUNT(*) FROM deliverables_run GROUP BY status") == [("SUCCESS", DRILL_RUNS)]
    first_revisions = query(
        "SELECT d.id, COUNT(r.id) FROM deliverables_deliverable d LEFT JOIN deliverables_revision r "
        "ON r.deliverable_id = d.id AND r.version = 1 GROUP BY d.id"
    )
    assert len(first_revisions) == DRILL_RUNS * len(DRILL_KINDS)
    assert {count for _, count in first_revisions} == {1}  # every slot: exactly one first revision
    assert query("SELECT MAX(deliveries) FROM deliverables_deliverable")[0][0] >= 2  # the kills hit running tasks
    if not embedded:
        assert settings.TEST_REDIS_URL in env["REDIS_URL"]
