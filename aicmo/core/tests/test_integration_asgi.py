"""ASGI serving (uvicorn, as `make run` starts it): open `?wait=` requests are suspended coroutines holding no
thread, so twenty long waits from one user leave `/healthz` fast (under WSGI each held a thread: /healthz took
23 s), and when the runs end the waits answer at once (the settlement is announced over Redis, not polled)."""

import os
import statistics
import threading
import time

import pytest
import requests
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import UVICORN_READY, flush_redis, uvicorn, wait_http
from deliverables.models import Deliverable, Run
from deliverables.services import run_finalize

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OPEN_WAITS = 20


def healthz_latencies(url: str, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.monotonic()
        response = requests.get(url + "/healthz", timeout=30)
        latencies.append(time.monotonic() - started)
        assert response.status_code == 200, response.text
        time.sleep(0.02)
    return latencies


def thread_count(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("Threads:")).split()[1])


def test_twenty_open_waits_leave_healthz_fast_and_end_when_the_runs_settle(marketer, tmp_path, settings):
    flush_redis()
    settings.REDIS_URL = settings.TEST_REDIS_URL  # this process announces the settlements below
    # The per-user cap on open waits (AICMO_MAX_CONCURRENT_WAITS, 4) is raised: this measures the server, and
    # twenty waits from one user is the report it answers. No idle request thread is kept, so the thread count
    # shows what the open waits hold.
    web = uvicorn(
        tmp_path / "web.log", AICMO_MAX_CONCURRENT_WAITS=str(OPEN_WAITS), AICMO_REQUEST_THREADS_KEPT="0"
    ).start(ready_text=UVICORN_READY)
    try:
        wait_http(web.url + "/healthz")
        session = requests.Session()
        session.headers["Authorization"] = f"Token {Token.objects.create(user=marketer).key}"
        brief = {"campaign_name": "Waits", "deliverables": ["campaign_brief"]}
        # No worker: the runs stay PENDING, so every wait below stays open until this test settles them.
        run_ids = []
        for _ in range(OPEN_WAITS):
            created = session.post(f"{web.url}/api/v1/campaigns/generate?wait=0", json=brief, timeout=30)
            assert created.status_code == 202, created.text
            run_ids.append(created.json()["run_id"])
        baseline = healthz_latencies(web.url, 20)
        threads_before = thread_count(web.proc.pid)

        answers: dict[str, tuple[int, dict, float]] = {}

        def wait_for(run_id: str) -> None:
            response = session.get(f"{web.url}/api/v1/runs/{run_id}?wait=60", timeout=90)
            answers[run_id] = (response.status_code, response.json(), time.monotonic())

        threads = [threading.Thread(target=wait_for, args=(run_id,)) for run_id in run_ids]
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # every wait has reached the server and is suspended
        during = healthz_latencies(web.url, 40)
        still_open = sum(thread.is_alive() for thread in threads)
        threads_during = thread_count(web.proc.pid)

        settled_at = time.monotonic()
        Deliverable.objects.filter(run__run_id__in=run_ids).update(
            generation_status=Deliverable.Generation.FAILED,
            error={"type": "PROVIDER_ERROR", "message": "Drill: the provider refused."},
        )
        for run in Run.objects.filter(run_id__in=run_ids):
            assert run_finalize(run_pk=run.pk)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        web.stop()

    assert still_open == OPEN_WAITS
    # No thread per wait (a sync-only middleware, or the request's own sync thread, would be one per wait): at
    # most the event loop's shared pool (asyncio's default: cpu count + 4 threads) has been started.
    assert threads_during - threads_before <= min(32, (os.cpu_count() or 1) + 4) < OPEN_WAITS, (
        threads_before,
        threads_during,
    )
    assert statistics.median(during) < 0.25, (statistics.median(baseline), sorted(during))
    assert max(during) < 1.0, (statistics.median(baseline), sorted(during))
    assert sorted(answers) == sorted(run_ids)
    for status, body, _ in answers.values():
        assert status == 200
        assert body["status"] == "FAILED"
        assert body["error"]["type"] == "PROVIDER_ERROR"
    # Woken by the announcement: well inside the server's 5 s safety re-check.
    assert max(at for _, _, at in answers.values()) - settled_at < 3
