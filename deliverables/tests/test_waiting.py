"""Generate's wait (contract §5): 200 with the final envelope when the run ends within the wait, else 202;
`?wait=0` and `Prefer: respond-async` answer at once; the wait is woken by the settlement's announcement on Redis,
with a slow safety re-check, and falls back to reading the waiting runs when Redis is missing or down.

The runs here are generated for real (offline provider) by a thread that starts a moment after the request's
commit, standing in for the worker: the request is then already waiting when the run ends. Rewrites wait the
same way, on a channel of their own."""

import threading
import time

import pytest
from django.db import connection

from deliverables import waiting
from deliverables.envelope import validate_envelope
from deliverables.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

BRIEF = {"campaign_name": "Q1 Launch", "platforms": ["LinkedIn"], "deliverables": ["campaign_brief", "linkedin_post"]}


@pytest.fixture
def late_worker(monkeypatch):
    """Tasks run in a thread 0.3 s after they are enqueued (each thread has its own database connection)."""
    from deliverables import tasks

    threads: list[threading.Thread] = []

    def run_later(pk):
        time.sleep(0.3)
        try:
            tasks.generate_deliverable.run(pk)
        finally:
            connection.close()

    def apply_async(args, **kwargs):
        thread = threading.Thread(target=run_later, args=args)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", apply_async)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def no_worker(monkeypatch):
    from deliverables import tasks

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda args, **kwargs: None)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_generate_answers_200_with_the_final_envelope_woken_by_the_announcement(
    marketer_api, late_worker, settings, monkeypatch
):
    settings.REDIS_URL = settings.TEST_REDIS_URL
    settings.AICMO_API_WAIT_S = 20.0
    monkeypatch.setattr(waiting, "RECHECK_S", 60.0)  # only the announcement can wake the request in time

    response, elapsed = timed(lambda: marketer_api.post("/api/v1/campaigns/generate", BRIEF, format="json"))

    assert response.status_code == 200
    body = response.json()
    assert validate_envelope(body) == []
    assert body["status"] == "SUCCESS"
    assert [d["kind"] for d in body["deliverables"]] == ["campaign_brief", "linkedin_post"]
    assert all(d["content_markdown"].strip() for d in body["deliverables"])
    assert response["Location"] == f"/api/v1/runs/{body['run_id']}"
    assert elapsed < 5, elapsed


def test_a_lost_announcement_is_caught_by_the_safety_recheck(marketer_api, late_worker, settings, monkeypatch):
    settings.REDIS_URL = settings.TEST_REDIS_URL
    monkeypatch.setattr("deliverables.services.settle.run_settled_publish", lambda run_id: None)
    monkeypatch.setattr(waiting, "RECHECK_S", 1.0)

    response, elapsed = timed(lambda: marketer_api.post("/api/v1/campaigns/generate?wait=20", BRIEF, format="json"))

    assert response.status_code == 200
    assert response.json()["status"] == "SUCCESS"
    assert elapsed < 8, elapsed


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:1/0"], ids=["no-redis", "redis-down"])
def test_without_a_reachable_redis_the_wait_reads_the_waiting_runs(marketer_api, late_worker, settings, redis_url):
    settings.REDIS_URL = redis_url

    response, elapsed = timed(lambda: marketer_api.post("/api/v1/campaigns/generate?wait=20", BRIEF, format="json"))

    assert response.status_code == 200
    assert response.json()["status"] == "SUCCESS"
    assert elapsed < 8, elapsed


def test_wait_zero_and_prefer_respond_async_answer_202_at_once(marketer_api, no_worker, settings):
    settings.AICMO_API_WAIT_S = 30.0

    zero, zero_s = timed(lambda: marketer_api.post("/api/v1/campaigns/generate?wait=0", BRIEF, format="json"))
    prefer, prefer_s = timed(
        lambda: marketer_api.post(
            "/api/v1/campaigns/generate", BRIEF, format="json", HTTP_PREFER="respond-async, return=minimal"
        )
    )

    for response, elapsed in ((zero, zero_s), (prefer, prefer_s)):
        assert response.status_code == 202
        assert response.json()["status"] == "PENDING"
        assert response["Location"] == f"/api/v1/runs/{response.json()['run_id']}"
        assert elapsed < 3, elapsed
    assert Run.objects.filter(status=Run.Status.PENDING).count() == 2


def test_a_run_not_ended_within_the_default_wait_answers_202_after_it(marketer_api, no_worker, settings):
    settings.AICMO_API_WAIT_S = 1.0

    response, elapsed = timed(lambda: marketer_api.post("/api/v1/campaigns/generate", BRIEF, format="json"))

    assert response.status_code == 202
    assert response.json()["status"] == "PENDING"
    assert 1.0 <= elapsed < 4, elapsed
    run_id = response.json()["run_id"]
    polled, polled_s = timed(lambda: marketer_api.get(f"/api/v1/runs/{run_id}?wait=0.5"))
    assert polled.status_code == 202 and polled.json()["run_id"] == run_id
    assert 0.5 <= polled_s < 3, polled_s


@pytest.mark.parametrize("wait", ["-1", "121", "soon", "nan"])
def test_a_bad_wait_is_a_validation_error_and_starts_nothing(marketer_api, no_worker, wait):
    response = marketer_api.post(f"/api/v1/campaigns/generate?wait={wait}", BRIEF, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "FAILED" and body["error"]["type"] == "VALIDATION_ERROR"
    assert body["error"]["details"] == {"wait": ["A number of seconds from 0 to 120."]}
    assert Run.objects.count() == 0


def _announcements_of(subscriber, key: str, *, seconds: float = 3) -> list[str]:
    """The announcements of `key` heard within `seconds` (and a little after the first, to catch a second). The
    channels are server-wide: the other xdist worker's announcements on the private Redis are not this test's."""
    heard: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = subscriber.get_message(timeout=0.2)
        if message and message["data"].decode() == key:
            heard.append(key)
            deadline = min(deadline, time.monotonic() + 0.5)
    subscriber.close()
    return heard


def test_run_finalize_announces_the_run_on_the_settled_channel(marketer_api, settings, run_tasks_inline):
    import redis

    settings.REDIS_URL = settings.TEST_REDIS_URL
    subscriber = redis.Redis.from_url(settings.TEST_REDIS_URL).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(waiting.SETTLED_CHANNEL)
    subscriber.get_message(timeout=1)  # the subscription's confirmation
    with run_tasks_inline():
        response = marketer_api.post("/api/v1/campaigns/generate?wait=0", BRIEF, format="json")
    run_id = response.json()["run_id"]

    messages = _announcements_of(subscriber, run_id)

    assert Run.objects.get(run_id=run_id).status == Run.Status.SUCCESS
    assert messages == [run_id]  # announced once


# --- rewrites wait the same way (notified, no thread held, no polling loop) ------------------------------------


@pytest.fixture
def late_rewriter(monkeypatch):
    """Rewrite tasks run in a thread 0.3 s after they are enqueued, as `late_worker` does for generation."""
    from deliverables import tasks

    threads: list[threading.Thread] = []

    def run_later(rewrite_id):
        time.sleep(0.3)
        try:
            tasks.rewrite_deliverable.run(rewrite_id)
        finally:
            connection.close()

    def apply_async(args, **kwargs):
        thread = threading.Thread(target=run_later, args=args)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.rewrite_deliverable, "apply_async", apply_async)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def linkedin_post(marketer, run_tasks_inline):
    from deliverables.tests.review_helpers import generate_campaign, of_kind

    return of_kind(generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"]), "linkedin_post")


def test_a_rewrite_answers_200_when_its_end_is_announced(
    marketer_api, linkedin_post, late_rewriter, settings, monkeypatch
):
    settings.REDIS_URL = settings.TEST_REDIS_URL
    settings.AICMO_API_WAIT_S = 20.0
    monkeypatch.setattr(waiting, "RECHECK_S", 60.0)  # only the announcement can wake the request in time
    monkeypatch.setattr(waiting, "POLL_S", 60.0)  # and it must not fall back to reading the rewrite

    response, elapsed = timed(
        lambda: marketer_api.post(
            f"/api/v1/deliverables/{linkedin_post.pk}/rewrite", {"action": "shorten", "version": 1}, format="json"
        )
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["deliverable"]["version"]) == ("done", 2)
    assert response["Location"] == f"/api/v1/rewrites/{body['id']}"
    assert elapsed < 5, elapsed


def test_a_rewrite_read_with_wait_is_woken_by_the_announcement(
    marketer_api, linkedin_post, late_rewriter, settings, monkeypatch
):
    settings.REDIS_URL = settings.TEST_REDIS_URL
    monkeypatch.setattr(waiting, "RECHECK_S", 60.0)
    started = marketer_api.post(
        f"/api/v1/deliverables/{linkedin_post.pk}/rewrite?wait=0", {"action": "expand", "version": 1}, format="json"
    )
    assert started.status_code == 202

    response, elapsed = timed(lambda: marketer_api.get(f"{started['Location']}?wait=20"))

    assert (response.status_code, response.json()["status"]) == (200, "done")
    assert elapsed < 5, elapsed


def test_a_rewrite_not_ended_within_its_wait_answers_202_after_it(marketer_api, linkedin_post, monkeypatch):
    from deliverables import tasks

    monkeypatch.setattr(tasks.rewrite_deliverable, "apply_async", lambda args, **kwargs: None)  # no worker

    response, elapsed = timed(
        lambda: marketer_api.post(
            f"/api/v1/deliverables/{linkedin_post.pk}/rewrite?wait=1",
            {"action": "shorten", "version": 1},
            format="json",
        )
    )

    assert (response.status_code, response.json()["status"]) == (202, "pending")
    assert 1.0 <= elapsed < 4, elapsed


def test_a_rewrite_that_ends_is_announced_on_the_rewrite_channel(marketer_api, linkedin_post, settings, monkeypatch):
    import redis

    from deliverables import tasks

    settings.REDIS_URL = settings.TEST_REDIS_URL
    monkeypatch.setattr(
        tasks.rewrite_deliverable, "apply_async", lambda args, **kwargs: tasks.rewrite_deliverable.run(*args)
    )
    subscriber = redis.Redis.from_url(settings.TEST_REDIS_URL).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(waiting.REWRITE_ENDED_CHANNEL)
    subscriber.get_message(timeout=1)

    response = marketer_api.post(
        f"/api/v1/deliverables/{linkedin_post.pk}/rewrite?wait=0", {"action": "shorten", "version": 1}, format="json"
    )
    rewrite_id = response.json()["id"]

    assert _announcements_of(subscriber, rewrite_id) == [rewrite_id]  # announced once


def test_the_rewrite_views_hold_no_polling_loop():
    """The thread-holding `rewrite_wait` (sleep and re-read every 0.2 s) is gone: the views await the notified
    wait of deliverables/waiting.py, as generate does."""
    from deliverables import api_review, selectors

    assert not hasattr(selectors, "rewrite_wait")
    assert issubclass(api_review.RewriteView, api_review.WaitingAPIView)
    assert issubclass(api_review.RewriteDetailView, api_review.WaitingAPIView)
