"""The Anthropic provider, driving the official SDK against the local fake server."""

import json
import time
import traceback
from decimal import Decimal

import pytest

from aicmo.llm.base import CompletionRequest, ImageRequest, Message, StreamEvent, ToolCall, Usage
from aicmo.llm.exceptions import ErrorType, ProviderError, UnsupportedOperation
from aicmo.testing.fake_llm_server import FakeLLMServer, Reply, example_for_schema

from .factories import AD_SCHEMA, ANTHROPIC_MODEL, API_KEY, SAVE_TOOL, ad_request, anthropic_provider, text_request

# claude-haiku-4-5: $1 in, $5 out per million tokens → (1 × 120 + 5 × 30) / 1e6
COST_120_IN_30_OUT = Decimal("0.000270")
DELIVER = {"type": "tool", "name": "deliver"}


def test_complete_returns_the_text_usage_and_cost(fake: FakeLLMServer) -> None:
    fake.enqueue("anthropic", Reply(text="Fresh coffee, faster.", usage=(120, 30)))

    completion = anthropic_provider(fake).complete(text_request())

    assert (completion.text, completion.provider, completion.model) == (
        "Fresh coffee, faster.",
        "anthropic",
        ANTHROPIC_MODEL,
    )
    assert (completion.usage, completion.cost_usd) == (Usage(120, 30), COST_120_IN_30_OUT)
    assert (completion.data, completion.tool_calls, completion.warnings) == (None, (), ())
    [sent] = fake.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"  # this SDK version sends the key as a bearer token
    assert sent.body == {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 1800,
        "system": "You are a marketer.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Write a tagline for Bean There coffee"}]}],
    }


def test_structured_answer_comes_from_the_forced_deliver_tool(fake: FakeLLMServer) -> None:
    completion = anthropic_provider(fake).complete(ad_request())

    expected = example_for_schema(AD_SCHEMA)
    assert completion.data == expected
    assert completion.text == json.dumps(expected)
    assert completion.tool_calls == ()  # the deliver tool is how the answer travels, not a call to act on
    body = fake.requests[0].body
    assert body["tools"] == [{"name": "deliver", "description": "Deliver the answer.", "input_schema": AD_SCHEMA}]
    assert body["tool_choice"] == DELIVER


def test_structured_answer_written_as_text_is_parsed_when_it_is_json(fake: FakeLLMServer) -> None:
    fake.enqueue(
        "anthropic",
        Reply(text='{"headline": "Brew better", "hashtags": ["#coffee", "#bean"]}'),
        Reply(text="Sorry, here is prose."),
    )
    provider = anthropic_provider(fake)

    as_json = provider.complete(ad_request())
    as_prose = provider.complete(ad_request())

    assert as_json.data == {"headline": "Brew better", "hashtags": ["#coffee", "#bean"]}
    assert (as_prose.data, as_prose.text) == (None, "Sorry, here is prose.")


def test_tool_use_comes_back_parsed_and_history_is_sent_as_blocks(fake: FakeLLMServer) -> None:
    fake.enqueue("anthropic", Reply(tool_calls=[("save_ad_asset", {"headline": "Brew better"})]))
    calls = (
        ToolCall(id="toolu_a", name="save_ad_asset", arguments={"headline": "One"}),
        ToolCall(id="toolu_b", name="save_ad_asset", arguments={"headline": "Two"}),
    )
    request = CompletionRequest(
        system="",
        use_case="studio",
        tools=(SAVE_TOOL,),
        messages=(
            Message("user", "Save two headlines"),
            Message("assistant", "Saving both.", tool_calls=calls),
            Message("tool", "saved one", tool_call_id="toolu_a"),
            Message("tool", "saved two", tool_call_id="toolu_b"),
        ),
    )

    completion = anthropic_provider(fake).complete(request)

    assert completion.tool_calls == (
        ToolCall(id="toolu_fake_1", name="save_ad_asset", arguments={"headline": "Brew better"}),
    )
    body = fake.requests[0].body
    assert "system" not in body
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Save two headlines"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Saving both."},
                {"type": "tool_use", "id": "toolu_a", "name": "save_ad_asset", "input": {"headline": "One"}},
                {"type": "tool_use", "id": "toolu_b", "name": "save_ad_asset", "input": {"headline": "Two"}},
            ],
        },
        # Results of parallel calls share one user turn: the API wants roles to alternate.
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "saved one"},
                {"type": "tool_result", "tool_use_id": "toolu_b", "content": "saved two"},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "name": "save_ad_asset",
            "description": "Save an ad asset to the campaign.",
            "input_schema": dict(SAVE_TOOL.parameters),
        }
    ]
    assert "tool_choice" not in body


def test_stream_yields_text_deltas_then_one_final_completion(fake: FakeLLMServer) -> None:
    fake.enqueue("anthropic", Reply(stream_chunks=["Fresh ", "coffee, ", "faster."], usage=(120, 30)))

    events = list(anthropic_provider(fake).stream(text_request()))

    # Every SSE event is passed on: those without text (message and block starts and stops, the usage delta) as
    # empty signs of life, which keep a slow stream inside the chain's idle limit.
    assert [e.text for e in events[:-1]] == ["", "", "Fresh ", "coffee, ", "faster.", "", "", ""]
    final = events[-1].completion
    assert final is not None
    assert (final.text, final.usage, final.cost_usd) == ("Fresh coffee, faster.", Usage(120, 30), COST_120_IN_30_OUT)
    assert fake.requests[0].body["stream"] is True


def test_stream_with_text_and_tool_use(fake: FakeLLMServer) -> None:
    fake.enqueue("anthropic", Reply(text="Saving it now.", tool_calls=[("save_ad_asset", {"headline": "Brew"})]))

    events = list(anthropic_provider(fake).stream(text_request(tools=(SAVE_TOOL,))))

    assert [e.text for e in events[:-1] if e.text] == ["Saving ", "it ", "now."]
    final = events[-1].completion
    assert final is not None
    assert final.text == "Saving it now."
    assert final.tool_calls == (ToolCall(id="toolu_fake_1", name="save_ad_asset", arguments={"headline": "Brew"}),)


def test_stream_of_a_structured_answer_streams_the_json(fake: FakeLLMServer) -> None:
    events = list(anthropic_provider(fake).stream(ad_request()))

    final = events[-1].completion
    assert final is not None
    assert final.data == example_for_schema(AD_SCHEMA)
    assert "".join(e.text for e in events[:-1]) == final.text == json.dumps(final.data)
    assert len([e for e in events if e.text]) == 2  # the fake sends the tool input in two fragments


def test_stream_failing_before_its_first_event_raises_provider_error(fake: FakeLLMServer) -> None:
    fake.enqueue("anthropic", Reply(status=529))
    events = anthropic_provider(fake).stream(text_request())

    with pytest.raises(ProviderError) as caught:
        next(events)

    assert (caught.value.error_type, caught.value.retryable, caught.value.status_code) == (
        ErrorType.PROVIDER_ERROR,
        True,
        529,
    )


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"cut_stream": True}, "connection to anthropic failed (RemoteProtocolError)"),
        ({"stream_error": "overloaded_error"}, "error event in the stream from anthropic"),
    ],
    ids=["connection-cut", "error-event"],
)
def test_stream_failing_midway_raises_provider_error_after_the_partial_text(
    fake: FakeLLMServer, failure: dict, message: str
) -> None:
    fake.enqueue("anthropic", Reply(stream_chunks=["Fresh ", "coffee "], **failure))
    received: list[StreamEvent] = []

    with pytest.raises(ProviderError) as caught:
        for event in anthropic_provider(fake).stream(text_request()):
            received.append(event)

    assert [e.text for e in received if e.text] == ["Fresh ", "coffee "]
    error = caught.value
    assert (error.error_type, error.retryable, error.status_code, error.message) == (
        ErrorType.PROVIDER_ERROR,
        True,
        None,
        message,
    )


def test_generate_image_is_unsupported_and_sends_nothing(fake: FakeLLMServer) -> None:
    with pytest.raises(UnsupportedOperation):
        anthropic_provider(fake).generate_image(ImageRequest(prompt="A latte"))

    assert fake.requests == []


@pytest.mark.parametrize(
    ("reply", "error_type", "retryable", "status_code"),
    [
        (Reply(status=529), ErrorType.PROVIDER_ERROR, True, 529),
        (Reply(status=500), ErrorType.PROVIDER_ERROR, True, 500),
        (Reply(status=429, headers={"retry-after": "3600"}), ErrorType.RATE_LIMIT, True, 429),
        (Reply(status=400), ErrorType.PROVIDER_ERROR, False, 400),
        (Reply(status=401), ErrorType.PROVIDER_ERROR, False, 401),
        (Reply(garbage=True), ErrorType.VALIDATION_ERROR, True, None),
        (Reply(body={"unexpected": "shape"}), ErrorType.VALIDATION_ERROR, True, None),
    ],
    ids=["529-overloaded", "500", "429", "400", "401", "garbage", "wrong-shape"],
)
def test_failures_map_to_provider_errors_after_exactly_one_request(
    fake: FakeLLMServer, reply: Reply, error_type: str, retryable: bool, status_code: int | None
) -> None:
    fake.enqueue("anthropic", reply)
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        anthropic_provider(fake).complete(text_request())

    error = caught.value
    assert (error.provider, error.error_type, error.retryable, error.status_code) == (
        "anthropic",
        error_type,
        retryable,
        status_code,
    )
    assert len(fake.requests) == 1  # max_retries=0: no retry, even after a Retry-After of an hour
    assert time.monotonic() - started < 2


def test_status_errors_carry_a_short_message_of_our_own(fake: FakeLLMServer) -> None:
    fake.enqueue(
        "anthropic",
        Reply(
            status=401,
            body={
                "type": "error",
                "error": {"type": "authentication_error", "message": f"invalid x-api-key {API_KEY}"},
            },
        ),
    )

    with pytest.raises(ProviderError) as caught:
        anthropic_provider(fake).complete(text_request())

    assert caught.value.message == "HTTP 401 from anthropic"
    assert API_KEY not in "".join(traceback.format_exception(caught.value))


def test_a_hung_server_is_cut_by_the_timeout(fake: FakeLLMServer) -> None:
    fake.enqueue("anthropic", Reply(hang=True))
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        anthropic_provider(fake, timeout_s=0.5).complete(text_request())

    assert 0.4 < time.monotonic() - started < 1.5
    assert (caught.value.error_type, caught.value.retryable) == (ErrorType.TIMEOUT, True)
