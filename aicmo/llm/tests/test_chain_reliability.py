"""Whole-call deadlines and breaker semantics of the chain, with the real SDKs against the fake server (issue 11):
a trickling provider is a TIMEOUT at its deadline, silent streams fall through, bad answers never cool a provider
down, and after an outage the next call is tried (half-open) instead of refused untried."""

import threading
import time

import pytest

from aicmo.llm import cooldown
from aicmo.llm.base import ImageRequest
from aicmo.llm.chain import ProviderChain
from aicmo.llm.exceptions import AllProvidersFailed, ErrorType, ProviderError
from aicmo.testing.fake_llm_server import FakeLLMServer, Reply

from .factories import ANTHROPIC_MODEL, OPENAI_MODEL, ad_request, anthropic_provider, openai_provider, text_request
from .test_chain import INVALID_AD, Records, make_chain, outcomes

OPENAI_BREAKER = cooldown.breaker_key("openai", OPENAI_MODEL)
ANTHROPIC_BREAKER = cooldown.breaker_key("anthropic", ANTHROPIC_MODEL)
TRICKLE = (8, 0.4)  # 8 bytes every 0.4 s: every read is well inside the SDK's per-read timeout


def llm_threads(provider: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"aicmo-llm-{provider}"]


def wait_for_no_threads(provider: str, within_s: float) -> float:
    """Seconds until no helper thread of this provider is left (the abandoned call ended), or fail."""
    started = time.monotonic()
    while llm_threads(provider):
        assert time.monotonic() - started < within_s, f"{provider}'s abandoned call still running"
        time.sleep(0.05)
    return time.monotonic() - started


# --- whole-call deadlines -----------------------------------------------------------------------------------


def test_a_trickling_provider_times_out_at_its_deadline_and_the_fallback_answers(fake: FakeLLMServer) -> None:
    # Given a primary that answers 8 bytes every 0.4 s: its ~600-byte answer would take about 30 s
    records = Records()
    fake.enqueue("openai", Reply(text="Fresh coffee, faster. " * 10, trickle=TRICKLE))
    fake.enqueue("anthropic", Reply(text="Roasted this morning."))
    started = time.monotonic()

    completion = make_chain(fake, records, timeout_s=2.0).complete(text_request())

    elapsed = time.monotonic() - started
    assert (completion.provider, completion.text) == ("anthropic", "Roasted this morning.")
    assert 2.0 <= elapsed < 3.0  # the deadline plus less than a second (the fallback's own call included)
    assert outcomes(records) == [("openai", "error", ErrorType.TIMEOUT), ("anthropic", "ok", "")]
    assert records[0].error_message == "timed out waiting for openai: no complete answer within 2 s"
    assert 2000 <= records[0].latency_ms < 2500
    # The abandoned call does not linger: the transport stops reading at the first chunk after the deadline.
    assert wait_for_no_threads("openai", within_s=1.5) < 1.5


def test_a_trickling_provider_alone_fails_as_a_timeout(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(text="Fresh coffee, faster. " * 10, trickle=TRICKLE))
    chain = ProviderChain([openai_provider(fake, timeout_s=1.0)], timeout_s=1.0)

    with pytest.raises(AllProvidersFailed) as caught:
        chain.complete(text_request())

    assert caught.value.error_type == ErrorType.TIMEOUT


def test_a_trickling_image_times_out_at_its_deadline(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("images", Reply(trickle=TRICKLE))
    started = time.monotonic()

    with pytest.raises(AllProvidersFailed) as caught:
        make_chain(fake, records, timeout_s=1.0).generate_image(ImageRequest(prompt="A latte on oak"))

    assert time.monotonic() - started < 2.0
    assert caught.value.error_type == ErrorType.TIMEOUT
    assert outcomes(records) == [("openai", "error", ErrorType.TIMEOUT)]  # anthropic makes no images: not asked
    assert (records[0].model, records[0].use_case) == ("gpt-image-1", "image")


def test_a_stream_silent_past_the_idle_limit_falls_through_when_nothing_was_sent(fake: FakeLLMServer) -> None:
    # Given a primary whose stream leaves 4 s between events, over an idle limit of 1.5 s
    records = Records()
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee."], chunk_delay_s=4.0))
    fake.enqueue("anthropic", Reply(stream_chunks=["Roasted ", "today."]))
    started = time.monotonic()

    events = list(make_chain(fake, records, stream_idle_s=1.5).stream(text_request()))

    assert time.monotonic() - started < 1.5 + 1.0
    assert [e.text for e in events[:-1]] == ["Roasted ", "today."]  # signs of life are not passed on
    assert (events[-1].completion.provider, events[-1].completion.text) == ("anthropic", "Roasted today.")
    assert outcomes(records) == [("openai", "error", ErrorType.TIMEOUT), ("anthropic", "ok", "")]
    assert records[0].error_message == "timed out waiting for openai: the stream was silent for 1.5 s"


def test_a_stream_past_its_deadline_after_sending_text_fails_without_fallback(fake: FakeLLMServer) -> None:
    # Given events every 1 s (inside the 2 s idle limit) and a whole-call deadline of 3.5 s
    records = Records()
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee ", "roasted ", "daily."], chunk_delay_s=1.0))
    chain = make_chain(fake, records, timeout_s=3.5, stream_idle_s=2.0)
    received: list[str] = []
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        for event in chain.stream(text_request()):
            received.append(event.text)

    assert 3.5 <= time.monotonic() - started < 4.5
    assert received == ["Fresh ", "coffee "]  # at 2 s and 3 s (the role chunk came at 1 s); the caller discards them
    assert (caught.value.error_type, caught.value.message) == (
        ErrorType.TIMEOUT,
        "timed out waiting for openai: no complete answer within 3.5 s",
    )
    assert fake.requests_to("anthropic") == []
    assert outcomes(records) == [("openai", "error", ErrorType.TIMEOUT)]


def test_a_slow_stream_that_keeps_sending_stays_inside_the_idle_limit(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee ", "daily."], chunk_delay_s=0.3))

    events = list(make_chain(fake, records, timeout_s=5.0, stream_idle_s=1.5).stream(text_request()))

    assert events[-1].completion.text == "Fresh coffee daily."
    assert outcomes(records) == [("openai", "ok", "")]


def test_a_stream_closed_early_by_its_consumer_is_recorded_as_interrupted(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee ", "daily."], chunk_delay_s=0.2))
    events = make_chain(fake, records).stream(text_request())

    assert next(events).text == "Fresh "
    events.close()

    assert [(r.provider, r.outcome, r.error_message) for r in records] == [
        ("openai", "interrupted", "interrupted (GeneratorExit)")
    ]
    assert wait_for_no_threads("openai", within_s=1.5) < 1.5


def test_every_attempt_is_reported_started_before_it_ends(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(status=500))

    make_chain(fake, records).complete(text_request())

    assert [(r.provider, r.outcome) for r in records.raw] == [
        ("openai", "started"),
        ("openai", "error"),
        ("anthropic", "started"),
        ("anthropic", "ok"),
    ]
    assert records.raw[0].call_id == records.raw[1].call_id != records.raw[2].call_id == records.raw[3].call_id


# --- breaker semantics ----------------------------------------------------------------------------------------


def test_schema_breaking_answers_never_cool_the_provider_down(fake: FakeLLMServer, settings) -> None:
    # Given a model that breaks the ad schema three times in a row (each time its repair too)
    settings.AICMO_COOLDOWN_FAILURES = 3
    for _ in range(3):
        fake.enqueue("openai", Reply(json=INVALID_AD), Reply(json=INVALID_AD))
    records = Records()
    chain = make_chain(fake, records)

    ads = [chain.complete(ad_request()) for _ in range(3)]
    text = chain.complete(text_request())

    assert [ad.provider for ad in ads] == ["anthropic", "anthropic", "anthropic"]  # that piece falls back
    assert ads[0].warnings == (
        "openai's answer was unusable (answer does not match the schema after one repair: hashtags/1: "
        "'no hash sign' does not match '^#\\\\w+$'), so anthropic wrote this one.",
    )
    assert text.provider == "openai"  # …and the provider stays in service for plain text
    assert len(fake.requests_to("openai")) == 7
    assert outcomes(records) == [
        ("openai", "error", ErrorType.VALIDATION_ERROR),
        ("anthropic", "ok", ""),
    ] * 3 + [("openai", "ok", "")]
    assert cooldown.open_until([OPENAI_BREAKER]) == {}


def test_empty_answers_never_cool_the_provider_down(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 2
    fake.enqueue("openai", Reply(text=""), Reply(text=""), Reply(text=""))
    chain = make_chain(fake, Records())

    answers = [chain.complete(text_request()).provider for _ in range(4)]

    assert answers == ["anthropic", "anthropic", "anthropic", "openai"]


@pytest.mark.parametrize(
    ("reply", "error_type"),
    [
        (Reply(status=500), ErrorType.PROVIDER_ERROR),
        (Reply(status=429), ErrorType.RATE_LIMIT),
        (Reply(hang=True), ErrorType.TIMEOUT),
    ],
    ids=["500", "429", "timeout"],
)
def test_availability_failures_cool_the_provider_down(
    fake: FakeLLMServer, settings, reply: Reply, error_type: str
) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 2
    fake.enqueue("openai", reply, reply)
    records = Records()
    chain = make_chain(fake, records, timeout_s=1.5)

    answers = [chain.complete(text_request()).provider for _ in range(3)]

    assert answers == ["anthropic", "anthropic", "anthropic"]
    assert len(fake.requests_to("openai")) == 2
    assert outcomes(records) == [
        ("openai", "error", error_type),
        ("anthropic", "ok", ""),
        ("openai", "error", error_type),
        ("anthropic", "ok", ""),
        ("openai", "skipped", ErrorType.PROVIDER_ERROR),
        ("anthropic", "ok", ""),
    ]
    assert list(cooldown.open_until([OPENAI_BREAKER, ANTHROPIC_BREAKER])) == [OPENAI_BREAKER]


def test_a_401_does_not_cool_the_provider_down(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 1
    fake.enqueue("openai", Reply(status=401))
    chain = make_chain(fake, Records())

    answers = [chain.complete(text_request()).provider for _ in range(2)]

    assert answers == ["anthropic", "openai"]


def test_after_every_provider_failed_and_recovered_the_very_next_call_succeeds(fake: FakeLLMServer, settings) -> None:
    # Given both providers answering 500 until both cool down
    settings.AICMO_COOLDOWN_FAILURES = 2
    fake.default_status = 500
    records = Records()
    chain = make_chain(fake, records)
    for _ in range(2):
        with pytest.raises(AllProvidersFailed):
            chain.complete(text_request())
    assert set(cooldown.open_until([OPENAI_BREAKER, ANTHROPIC_BREAKER])) == {OPENAI_BREAKER, ANTHROPIC_BREAKER}
    # When both recover
    fake.default_status = 200
    del records[:]

    completion = chain.complete(text_request())

    # Then the one whose cooldown ends first (openai's opened first) is tried at once, and its breaker closes
    assert completion.provider == "openai"
    assert outcomes(records) == [("openai", "ok", "")]
    assert list(cooldown.open_until([OPENAI_BREAKER, ANTHROPIC_BREAKER])) == [ANTHROPIC_BREAKER]
    assert chain.complete(text_request()).provider == "openai"
    assert len(fake.requests_to("openai")) == 4


def test_the_half_open_trial_goes_to_the_cooldown_that_ends_first(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_S = 60
    cooldown.record_failure(ANTHROPIC_BREAKER, reopen=True)
    time.sleep(0.05)
    cooldown.record_failure(OPENAI_BREAKER, reopen=True)  # opened later: ends later
    records = Records()

    completion = make_chain(fake, records).complete(text_request())

    assert completion.provider == "anthropic"
    assert outcomes(records) == [("openai", "skipped", ErrorType.PROVIDER_ERROR), ("anthropic", "ok", "")]
    assert fake.requests_to("openai") == []


def test_a_failed_half_open_trial_opens_the_cooldown_again(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_S = 60
    settings.AICMO_COOLDOWN_FAILURES = 3  # a failed trial reopens at once, whatever the count
    cooldown.record_failure(OPENAI_BREAKER, reopen=True)
    cooldown.record_failure(ANTHROPIC_BREAKER, reopen=True)
    before = cooldown.open_until([OPENAI_BREAKER])[OPENAI_BREAKER]
    fake.enqueue("openai", Reply(status=503))
    records = Records()

    with pytest.raises(AllProvidersFailed) as caught:
        make_chain(fake, records).complete(text_request())

    assert [(e.provider, e.message) for e in caught.value.errors] == [
        ("openai", "HTTP 503 from openai"),
        ("anthropic", "skipped: cooling down after repeated failures"),
    ]
    assert outcomes(records) == [
        ("openai", "error", ErrorType.PROVIDER_ERROR),
        ("anthropic", "skipped", ErrorType.PROVIDER_ERROR),
    ]
    assert cooldown.open_until([OPENAI_BREAKER])[OPENAI_BREAKER] > before  # a fresh cooldown
    assert len(fake.requests) == 1


def test_a_drill_is_not_a_cooldown_and_gets_no_half_open_trial(fake: FakeLLMServer, settings) -> None:
    cooldown.record_failure(ANTHROPIC_BREAKER, reopen=True)
    records = Records()

    completion = make_chain(fake, records, forced_failures=("openai",)).complete(text_request())

    # openai is in a drill, so the only live provider (anthropic) is cooling down: it gets the trial
    assert completion.provider == "anthropic"
    assert fake.requests_to("openai") == []
    assert outcomes(records) == [("openai", "skipped", ErrorType.PROVIDER_ERROR), ("anthropic", "ok", "")]


def test_breakers_are_per_model(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 1
    fake.enqueue("openai", Reply(status=500))
    mini = openai_provider(fake, model="gpt-4.1-mini")
    other = openai_provider(fake, model="gpt-4.1")
    ProviderChain([mini, anthropic_provider(fake)]).complete(text_request())
    records = Records()

    completion = ProviderChain([other, anthropic_provider(fake)], recorder=records.append).complete(text_request())

    assert (completion.provider, completion.model) == ("openai", "gpt-4.1")
    assert list(cooldown.open_until([OPENAI_BREAKER, cooldown.breaker_key("openai", "gpt-4.1")])) == [OPENAI_BREAKER]


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (ProviderError("x", provider="p", error_type=ErrorType.TIMEOUT), True),
        (ProviderError("x", provider="p", error_type=ErrorType.RATE_LIMIT, status_code=429), True),
        (ProviderError("x", provider="p"), True),  # a connection error or a stream error event: no status
        (ProviderError("x", provider="p", status_code=500), True),
        (ProviderError("x", provider="p", status_code=529), True),
        (ProviderError("x", provider="p", status_code=408), True),
        (ProviderError("x", provider="p", status_code=400, retryable=False), False),
        (ProviderError("x", provider="p", status_code=401, retryable=False), False),
        (ProviderError("x", provider="p", status_code=409), False),
        (ProviderError("x", provider="p", error_type=ErrorType.VALIDATION_ERROR), False),
        (ProviderError("x", provider="p", error_type=ErrorType.VALIDATION_ERROR, status_code=200), False),
    ],
)
def test_which_failures_are_outages(error: ProviderError, outage: bool) -> None:
    assert error.is_outage is outage
