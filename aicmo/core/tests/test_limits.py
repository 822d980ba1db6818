"""Atomic limits (aicmo/core/limits.py): the generate rate under real concurrency on a real Redis, the caps on
open long waits and streams, and the JSON nesting cap (aicmo/core/parsers.py)."""

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from asgiref.sync import async_to_sync
from rest_framework.authtoken.models import Token

from aicmo.core import limits
from aicmo.core.limits import ConcurrencyLimited, concurrency_slot, rate_hit, stream_slot
from aicmo.core.parsers import json_depth_exceeds
from aicmo.testing.processes import flush_redis, gunicorn, wait_http
from deliverables.models import Run

GENERATE = "/api/v1/campaigns/generate"
BRIEF = {"campaign_name": "Limits", "platforms": ["email"], "deliverables": ["campaign_brief"]}


@pytest.fixture
def redis_cache(settings):
    """The default cache on the test Redis database, as in every shape but the unit tests."""
    settings.CACHES = {"default": {"BACKEND": "aicmo.core.cache.RedisCache", "LOCATION": settings.TEST_REDIS_URL}}
    flush_redis()
    yield redis.Redis.from_url(settings.TEST_REDIS_URL)
    flush_redis()


# --- the generate rate ------------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_40_concurrent_generate_calls_over_a_limit_of_30_per_minute_give_exactly_10_refusals(marketer, tmp_path):
    flush_redis()
    # The real server (4 processes x 10 threads) on the test Redis: the counter is shared by processes.
    web = gunicorn(tmp_path / "web.log", workers=4, threads=10, AICMO_GENERATE_RATE="30/min")
    web.start(ready_text="Booting worker")
    try:
        wait_http(web.url + "/healthz")
        token = Token.objects.create(user=marketer).key

        def generate(_):
            request = urllib.request.Request(
                web.url + GENERATE + "?wait=0",
                method="POST",
                data=json.dumps(BRIEF).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status, response.headers.get("Retry-After"), json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, error.headers.get("Retry-After"), json.loads(error.read())

        with ThreadPoolExecutor(max_workers=40) as pool:
            answers = list(pool.map(generate, range(40)))
    finally:
        web.stop()
        flush_redis()

    refused = [answer for answer in answers if answer[0] == 429]
    assert sorted({status for status, _, _ in answers}) == [202, 429], web.output()[-2000:]
    assert len(refused) == 10
    assert all(1 <= int(retry_after) <= 61 for _, retry_after, _ in refused)
    assert {(body["status"], body["error"]["type"]) for _, _, body in refused} == {("FAILED", "RATE_LIMIT")}
    assert Run.objects.filter(requested_by=marketer).count() == 30  # a refusal creates nothing


def test_rate_hits_are_counted_atomically_by_concurrent_threads_on_redis(redis_cache):
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: rate_hit("t:user:1", limit=30, window_s=60), range(100)))

    assert sum(allowed for allowed, _ in answers) == 30
    assert all(0 < wait <= 60 for _, wait in answers)
    assert 59 <= redis_cache.pttl(limits.PREFIX + "t:user:1") / 1000 <= 60  # expiry set once, at the first hit


def test_a_rate_window_ends_and_the_count_starts_again(redis_cache):
    assert [rate_hit("t:user:2", limit=1, window_s=0.3)[0] for _ in range(2)] == [True, False]
    time.sleep(0.35)
    assert rate_hit("t:user:2", limit=1, window_s=0.3)[0] is True


# --- concurrency caps ----------------------------------------------------------------------------------------------


def test_a_concurrency_slot_is_refused_past_the_cap_and_given_back_at_the_end(redis_cache):
    key = limits.PREFIX + "wait:7"
    with concurrency_slot("wait", 7, limit=2, hold_s=60), concurrency_slot("wait", 7, limit=2, hold_s=60):
        assert int(redis_cache.get(key)) == 2
        with pytest.raises(ConcurrencyLimited) as refused, concurrency_slot("wait", 7, limit=2, hold_s=60):
            pass
        assert int(redis_cache.get(key)) == 2  # the refused one took nothing
        with concurrency_slot("wait", 8, limit=2, hold_s=60):  # another user's own slots
            pass
    assert redis_cache.get(key) is None
    assert refused.value.wait == 5
    assert refused.value.message == (
        "Too many open long waits for this user (at most 2): try again when one ends, or ask without waiting (?wait=0)."
    )


def test_slots_of_a_holder_that_died_expire(redis_cache):
    leaked = concurrency_slot("stream", 9, limit=1, hold_s=0.3)
    leaked.__enter__()  # never exited: a web process killed mid-stream
    with pytest.raises(ConcurrencyLimited):
        concurrency_slot("stream", 9, limit=1, hold_s=0.3).__enter__()
    time.sleep(0.35)
    with concurrency_slot("stream", 9, limit=1, hold_s=0.3):
        pass


@pytest.mark.django_db
def test_a_stream_slot_is_given_back_when_its_response_closes_even_unstarted(redis_cache, marketer, settings):
    settings.AICMO_MAX_CONCURRENT_STREAMS = 1

    async def events(items):
        for item in items:
            yield item

    async def scenario():
        first = await stream_slot(marketer, events(["a", "b"]), hold_s=60)
        with pytest.raises(ConcurrencyLimited):
            await stream_slot(marketer, events([]), hold_s=60)

        await first.aclose()  # Django closes the content of a response whose client went away, iterated or not

        second = await stream_slot(marketer, events(["c"]), hold_s=60)
        return [item async for item in second]  # exhausted: given back too

    assert async_to_sync(scenario)() == ["c"]
    assert redis_cache.get(limits.PREFIX + f"stream:{marketer.pk}") is None


@pytest.mark.django_db
def test_a_long_wait_past_the_users_cap_answers_429_and_creates_nothing(redis_cache, marketer_api, marketer, settings):
    settings.AICMO_MAX_CONCURRENT_WAITS = 1
    with concurrency_slot("wait", marketer.pk, limit=1, hold_s=60):  # one long poll already open
        refused = marketer_api.post(GENERATE + "?wait=5", BRIEF, format="json", HTTP_X_TRACE_ID="trace-cap")
        reading = marketer_api.get("/api/v1/runs/00000000-0000-0000-0000-000000000000?wait=5")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "6"
    body = refused.json()
    assert (body["status"], body["error"]["type"], body["error"]["trace_id"]) == ("FAILED", "RATE_LIMIT", "trace-cap")
    assert body["error"]["message"].startswith("Too many open long waits for this user (at most 1)")
    assert Run.objects.count() == 0
    assert reading.status_code == 404  # someone else's / no run: 404 before any wait is taken


# --- JSON nesting -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, limit, exceeds",
    [
        ("[" * 32 + "]" * 32, 32, False),
        ("[" * 33 + "]" * 33, 32, True),
        ('{"a": "[[[[[[[[["}', 2, False),  # brackets inside strings do not nest
        ('{"a": "\\"[[[[", "b": [[1]]}', 3, False),  # nor after an escaped quote
        ('{"a": "\\\\", "b": [[[1]]]}', 3, True),  # an escaped backslash: the quote after it closes the string
        ("", 2, False),
    ],
)
def test_json_depth_is_measured_outside_strings(text, limit, exceeds):
    assert json_depth_exceeds(text, limit) is exceeds


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_deeper_than_the_cap_answers_400_with_a_failed_envelope_on_generate(marketer_api, depth):
    body = json.dumps({**BRIEF, "audience": "x"})[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"

    response = marketer_api.generic("POST", GENERATE, body, content_type="application/json", HTTP_X_TRACE_ID="deep")

    assert response.status_code == 400
    envelope = response.json()
    assert (envelope["status"], envelope["error"]["type"]) == ("FAILED", "VALIDATION_ERROR")
    assert envelope["error"]["details"] == {"body": ["JSON parse error - nested deeper than 32 levels."]}
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_json_nested_deeper_than_the_cap_answers_400_on_other_endpoints(marketer_api, run_tasks_inline):
    with run_tasks_inline():
        run_id = marketer_api.post(GENERATE, BRIEF, format="json").json()["run_id"]
    deliverable = Run.objects.get(run_id=run_id).deliverables.get()
    body = '{"content_markdown": ' + "[" * 1000 + "]" * 1000 + ', "version": 1}'

    response = marketer_api.generic(
        "PATCH", f"/api/v1/deliverables/{deliverable.pk}", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "JSON parse error - nested deeper than 32 levels."
    deliverable.refresh_from_db()
    assert deliverable.version == 1  # no revision was made


@pytest.mark.django_db
def test_json_at_the_cap_is_parsed_as_before(marketer_api):
    nested = "[" * 30 + "]" * 30  # 30 levels inside the body's object (31 with it): under the cap of 32
    body = json.dumps(BRIEF)[:-1] + ', "extra": ' + nested + "}"

    response = marketer_api.generic("POST", GENERATE + "?wait=0", body, content_type="application/json")

    assert response.status_code == 202  # unknown fields are ignored; the run was created
    assert Run.objects.count() == 1


# --- the cache backend ------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_the_cache_keeps_one_client_per_pool_and_works_from_many_threads(redis_cache):
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import cache

    backend = cache._cache
    assert backend.get_client(write=True) is backend.get_client(write=False)  # one server: one pool, one client

    def round_trip(i: int):
        cache.set(f"kept:{i}", {"n": i}, timeout=30)
        return cache.get(f"kept:{i}")

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(round_trip, range(40))) == [{"n": i} for i in range(40)]
    assert len(backend._clients) == 1
