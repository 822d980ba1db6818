"""The provider chain with the real providers, against the fake server: fallback, repair, drills, cooldown."""

import dataclasses
import logging
import time
import traceback
from decimal import Decimal

import pytest

from aicmo.llm.base import ImageRequest
from aicmo.llm.chain import CallRecord, ProviderChain
from aicmo.llm.exceptions import AllProvidersFailed, ErrorType, ProviderError
from aicmo.testing.fake_llm_server import FakeLLMServer, Reply, example_for_schema

from .factories import (
    AD_SCHEMA,
    ANTHROPIC_MODEL,
    API_KEY,
    OPENAI_MODEL,
    ad_request,
    anthropic_provider,
    openai_provider,
    text_request,
)

INVALID_AD = {"headline": "Brew better", "hashtags": ["#coffee", "no hash sign"]}


class Records(list):
    """The chain's records of settled attempts, in order. Each attempt's "started" record (kept in `raw`) is
    checked off against the record that settles it: every call is reported before it is made."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[CallRecord] = []
        self.open: dict[str, CallRecord] = {}

    def append(self, record: CallRecord) -> None:
        self.raw.append(record)
        assert record.call_id
        if record.outcome == "started":
            assert record.call_id not in self.open and (record.latency_ms, record.error_type) == (0, "")
            self.open[record.call_id] = record
            return
        started = self.open.pop(record.call_id, None)
        if record.outcome != "skipped":  # skipped without a call: cooling down or a drill
            assert started is not None and (started.provider, started.model) == (record.provider, record.model)
        super().append(record)


def make_chain(
    fake: FakeLLMServer,
    records: list[CallRecord],
    *,
    timeout_s: float = 5.0,
    stream_idle_s: float = 5.0,
    forced_failures: tuple[str, ...] = (),
) -> ProviderChain:
    providers = [openai_provider(fake, timeout_s=timeout_s), anthropic_provider(fake, timeout_s=timeout_s)]
    return ProviderChain(
        providers,
        forced_failures=forced_failures,
        recorder=records.append,
        timeout_s=timeout_s,
        stream_idle_s=stream_idle_s,
    )


def outcomes(records: list[CallRecord]) -> list[tuple[str, str, str]]:
    return [(r.provider, r.outcome, r.error_type) for r in records]


def test_a_failing_primary_falls_through_to_the_next_provider(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(status=500))
    fake.enqueue("anthropic", Reply(text="Fresh coffee, faster.", usage=(120, 30)))

    completion = make_chain(fake, records).complete(text_request())

    assert (completion.provider, completion.text) == ("anthropic", "Fresh coffee, faster.")
    assert outcomes(records) == [("openai", "error", ErrorType.PROVIDER_ERROR), ("anthropic", "ok", "")]
    assert (records[0].model, records[0].error_message) == (OPENAI_MODEL, "HTTP 500 from openai")
    assert (records[1].model, records[1].tokens_in, records[1].tokens_out) == (ANTHROPIC_MODEL, 120, 30)
    assert (len(fake.requests_to("openai")), len(fake.requests_to("anthropic"))) == (1, 1)


def test_a_failing_primary_stream_falls_through_before_the_first_event(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(status=503))
    fake.enqueue("anthropic", Reply(stream_chunks=["Fresh ", "coffee."]))

    events = list(make_chain(fake, records).stream(text_request()))

    assert [e.text for e in events[:-1]] == ["Fresh ", "coffee."]
    assert events[-1].completion is not None and events[-1].completion.provider == "anthropic"
    assert outcomes(records) == [("openai", "error", ErrorType.PROVIDER_ERROR), ("anthropic", "ok", "")]


def test_every_provider_down_raises_all_providers_failed(fake: FakeLLMServer) -> None:
    records = Records()
    fake.default_status = 503

    with pytest.raises(AllProvidersFailed) as caught:
        make_chain(fake, records).complete(text_request())

    assert caught.value.error_type == ErrorType.PROVIDER_ERROR
    assert [(e.provider, e.status_code) for e in caught.value.errors] == [("openai", 503), ("anthropic", 503)]
    assert outcomes(records) == [
        ("openai", "error", ErrorType.PROVIDER_ERROR),
        ("anthropic", "error", ErrorType.PROVIDER_ERROR),
    ]


def test_every_provider_rate_limited_is_a_rate_limit(fake: FakeLLMServer) -> None:
    fake.default_status = 429

    with pytest.raises(AllProvidersFailed) as caught:
        make_chain(fake, Records()).complete(text_request())

    assert caught.value.error_type == ErrorType.RATE_LIMIT


def test_an_invalid_structured_answer_is_repaired_on_the_same_provider(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(json=INVALID_AD, usage=(100, 20)), Reply(usage=(150, 25)))

    completion = make_chain(fake, records).complete(ad_request())

    assert (completion.provider, completion.data) == ("openai", example_for_schema(AD_SCHEMA))
    assert (completion.usage.tokens_in, completion.usage.tokens_out) == (250, 45)  # both attempts are paid for
    first, repair = fake.requests_to("openai")
    assert repair.body["messages"][:-2] == first.body["messages"]
    assert repair.body["messages"][-2] == {
        "role": "assistant",
        "content": '{"headline": "Brew better", "hashtags": ["#coffee", "no hash sign"]}',
    }
    assert repair.body["messages"][-1] == {
        "role": "user",
        "content": (
            "That answer is invalid: hashtags/1: 'no hash sign' does not match '^#\\\\w+$'. "
            "Reply again with only JSON that matches the schema."
        ),
    }
    assert fake.requests_to("anthropic") == []
    assert outcomes(records) == [("openai", "ok", "")]


def test_an_answer_invalid_twice_falls_through_to_the_next_provider(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(json=INVALID_AD), Reply(text="still not json"))

    completion = make_chain(fake, records).complete(ad_request())

    assert (completion.provider, completion.data) == ("anthropic", example_for_schema(AD_SCHEMA))
    assert len(fake.requests_to("openai")) == 2
    assert outcomes(records) == [("openai", "error", ErrorType.VALIDATION_ERROR), ("anthropic", "ok", "")]


def test_an_answer_invalid_twice_records_the_tokens_and_cost_of_both_paid_calls(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(json=INVALID_AD, usage=(100, 20)), Reply(json=INVALID_AD, usage=(150, 25)))

    make_chain(fake, records).complete(ad_request())

    failed = records[0]
    assert (failed.provider, failed.outcome, failed.error_type) == ("openai", "error", ErrorType.VALIDATION_ERROR)
    assert (failed.tokens_in, failed.tokens_out) == (250, 45)
    assert failed.cost_usd == Decimal("0.000172")  # gpt-4.1-mini: (0.40 × 250 + 1.60 × 45) / 1e6


def test_a_repair_call_that_errors_still_records_the_paid_first_answer(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(json=INVALID_AD, usage=(100, 20)), Reply(status=500))

    make_chain(fake, records).complete(ad_request())

    failed = records[0]
    assert (failed.outcome, failed.error_type) == ("error", ErrorType.PROVIDER_ERROR)
    assert (failed.tokens_in, failed.tokens_out, failed.cost_usd) == (100, 20, Decimal("0.000072"))


def test_an_empty_answer_records_its_tokens(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(text="", usage=(120, 30)))

    make_chain(fake, records).complete(text_request())

    failed = records[0]
    assert (failed.outcome, failed.error_type) == ("error", ErrorType.VALIDATION_ERROR)
    assert (failed.tokens_in, failed.tokens_out, failed.cost_usd) == (120, 30, Decimal("0.000096"))


def test_a_call_that_got_no_answer_records_no_tokens(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(status=500))

    make_chain(fake, records).complete(text_request())

    assert (records[0].outcome, records[0].tokens_in, records[0].tokens_out, records[0].cost_usd) == (
        "error",
        0,
        0,
        None,
    )


def test_a_forced_failure_drill_never_calls_the_provider(fake: FakeLLMServer) -> None:
    records = Records()

    completion = make_chain(fake, records, forced_failures=("openai",)).complete(text_request())

    assert completion.provider == "anthropic"
    assert fake.requests_to("openai") == []
    assert outcomes(records) == [("openai", "skipped", ErrorType.PROVIDER_ERROR), ("anthropic", "ok", "")]


def test_a_provider_failing_repeatedly_cools_down_and_is_not_called(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 2
    settings.AICMO_COOLDOWN_S = 60
    fake.enqueue("openai", Reply(status=500), Reply(status=500), Reply(status=500))
    records = Records()
    chain = make_chain(fake, records)

    answers = [chain.complete(text_request()).provider for _ in range(3)]

    assert answers == ["anthropic", "anthropic", "anthropic"]
    assert len(fake.requests_to("openai")) == 2  # the third call never reached it
    assert outcomes(records)[-2:] == [("openai", "skipped", ErrorType.PROVIDER_ERROR), ("anthropic", "ok", "")]
    assert records[-2].error_message == "skipped: cooling down after repeated failures"


def test_a_hanging_primary_is_cut_by_its_timeout_and_the_secondary_answers(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(hang=True))
    started = time.monotonic()

    completion = make_chain(fake, records, timeout_s=0.5).complete(text_request())

    assert completion.provider == "anthropic"
    assert time.monotonic() - started < 1.5
    assert outcomes(records) == [("openai", "error", ErrorType.TIMEOUT), ("anthropic", "ok", "")]


def test_images_skip_a_provider_without_image_support(fake: FakeLLMServer) -> None:
    records = Records()
    chain = ProviderChain([anthropic_provider(fake), openai_provider(fake)], recorder=records.append)

    result = chain.generate_image(ImageRequest(prompt="A latte on oak"))

    assert (result.provider, result.model) == ("openai", "gpt-image-1")
    assert outcomes(records) == [("openai", "ok", "")]  # unsupported is neither a failure nor a call


@pytest.mark.parametrize("statuses", [(401, 500), (500, 401)], ids=["401-then-500", "500-then-401"])
def test_the_api_key_never_leaks(
    fake: FakeLLMServer, caplog: pytest.LogCaptureFixture, statuses: tuple[int, int]
) -> None:
    # Given error bodies that quote the key, as real 401s do, and every logger at DEBUG (the SDKs' too)
    for name in (None, "openai", "anthropic", "httpx2", "aicmo"):
        caplog.set_level(logging.DEBUG, logger=name)
    echo = f"Incorrect API key provided: {API_KEY}"
    fake.enqueue("openai", Reply(status=statuses[0], body={"error": {"message": echo, "type": "invalid_request"}}))
    fake.enqueue(
        "anthropic",
        Reply(status=statuses[1], body={"type": "error", "error": {"type": "authentication_error", "message": echo}}),
    )
    records = Records()

    with pytest.raises(AllProvidersFailed) as caught:
        make_chain(fake, records).complete(text_request())

    assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # the key was really sent
    assert [e.status_code for e in caught.value.errors] == list(statuses)
    assert caplog.records  # something was logged, so the next line is not vacuous
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(vars(record)) for record in caplog.records)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in "".join(traceback.format_exception(caught.value))
    assert len(records) == 2
    assert all(API_KEY not in str(dataclasses.asdict(record)) for record in records)


def test_a_stream_failing_midway_raises_and_is_recorded_as_an_error(fake: FakeLLMServer) -> None:
    records = Records()
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee "], cut_stream=True))
    received: list[str] = []

    with pytest.raises(ProviderError):
        for event in make_chain(fake, records).stream(text_request()):
            received.append(event.text)

    assert received == ["Fresh ", "coffee "]  # no fallback once text has gone out: the caller discards it
    assert fake.requests_to("anthropic") == []
    assert outcomes(records) == [("openai", "error", ErrorType.PROVIDER_ERROR)]


def test_failing_images_do_not_open_the_cooldown_of_the_providers_text(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 2
    records = Records()
    chain = make_chain(fake, records)
    fake.enqueue("images", Reply(status=500), Reply(status=500))
    for _ in range(2):
        with pytest.raises(AllProvidersFailed):
            chain.generate_image(ImageRequest(prompt="a cup of coffee on a table"))

    completion = chain.complete(text_request())

    assert completion.provider == "openai"
    assert len(fake.requests_to("images")) == 2
