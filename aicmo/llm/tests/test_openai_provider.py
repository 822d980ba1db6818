"""The OpenAI provider, driving the official SDK against the local fake server."""

import time
import traceback
from decimal import Decimal

import pytest

from aicmo.llm import pricing
from aicmo.llm.base import CompletionRequest, ImageRequest, Message, StreamEvent, ToolCall, Usage
from aicmo.llm.exceptions import ErrorType, ProviderError, UnsupportedOperation
from aicmo.llm.providers.openai import PNG_SIGNATURE, OpenAIProvider
from aicmo.testing.fake_llm_server import PNG_BYTES, FakeLLMServer, Reply, example_for_schema

from .factories import AD_SCHEMA, API_KEY, OPENAI_MODEL, SAVE_TOOL, ad_request, openai_provider, text_request

# gpt-4.1-mini: $0.40 in, $1.60 out per million tokens → (0.40 × 120 + 1.60 × 30) / 1e6
COST_120_IN_30_OUT = Decimal("0.000096")


def test_complete_returns_the_text_usage_and_cost(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(text="Fresh coffee, faster.", usage=(120, 30)))

    completion = openai_provider(fake).complete(text_request())

    assert (completion.text, completion.provider, completion.model) == ("Fresh coffee, faster.", "openai", OPENAI_MODEL)
    assert completion.usage == Usage(120, 30)
    assert completion.cost_usd == COST_120_IN_30_OUT
    assert (completion.data, completion.tool_calls, completion.warnings) == (None, (), ())
    assert 0 <= completion.latency_ms < 2000
    [sent] = fake.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body == {
        "model": OPENAI_MODEL,
        "messages": [
            {"role": "system", "content": "You are a marketer."},
            {"role": "user", "content": "Write a tagline for Bean There coffee"},
        ],
        "max_completion_tokens": 1800,
        "temperature": 0.7,
    }


def test_a_model_without_a_price_costs_none_and_says_so(fake: FakeLLMServer) -> None:
    completion = openai_provider(fake, model="gpt-9-preview").complete(text_request())

    assert completion.cost_usd is None
    assert completion.warnings == (pricing.unknown_price_warning("openai", "gpt-9-preview"),)


def test_compatible_servers_get_max_tokens_and_local_ones_cost_nothing(fake: FakeLLMServer) -> None:
    ollama = openai_provider(fake, name="ollama", model="llama3.1", image_model=None)

    completion = ollama.complete(text_request(max_tokens=300))

    assert (completion.provider, completion.cost_usd, completion.warnings) == ("ollama", Decimal("0"), ())
    assert fake.requests[0].body["max_tokens"] == 300
    assert "max_completion_tokens" not in fake.requests[0].body


def test_structured_answer_is_parsed_onto_data(fake: FakeLLMServer) -> None:
    completion = openai_provider(fake).complete(ad_request())

    expected = example_for_schema(AD_SCHEMA)
    assert expected == {"headline": "Sample text for headline", "hashtags": ["#hashtags1", "#hashtags2"]}
    assert completion.data == expected
    assert completion.text == ('{"headline": "Sample text for headline", "hashtags": ["#hashtags1", "#hashtags2"]}')
    assert fake.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "ad_copy", "schema": AD_SCHEMA, "strict": False},
    }


def test_structured_answer_that_is_not_json_is_left_to_the_chain(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(text='{"headline": "Cut off'))

    completion = openai_provider(fake).complete(ad_request())

    assert (completion.data, completion.text) == (None, '{"headline": "Cut off')


def test_tool_calls_come_back_parsed_and_history_is_sent_in_wire_format(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(tool_calls=[("save_ad_asset", {"headline": "Brew better"})]))
    earlier_call = ToolCall(id="call_0", name="save_ad_asset", arguments={"headline": "Draft"})
    request = CompletionRequest(
        system="",
        use_case="studio",
        tools=(SAVE_TOOL,),
        messages=(
            Message("user", "Save a headline"),
            Message("assistant", "", tool_calls=(earlier_call,)),
            Message("tool", '{"saved": true}', tool_call_id="call_0"),
            Message("user", "Another one"),
        ),
    )

    completion = openai_provider(fake).complete(request)

    assert completion.tool_calls == (
        ToolCall(id="call_fake_1", name="save_ad_asset", arguments={"headline": "Brew better"}),
    )
    assert completion.text == ""
    body = fake.requests[0].body
    assert body["messages"] == [
        {"role": "user", "content": "Save a headline"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "save_ad_asset", "arguments": '{"headline": "Draft"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": '{"saved": true}'},
        {"role": "user", "content": "Another one"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "save_ad_asset",
                "description": "Save an ad asset to the campaign.",
                "parameters": dict(SAVE_TOOL.parameters),
            },
        }
    ]


def test_tool_arguments_that_are_not_json_are_a_retryable_validation_error(fake: FakeLLMServer) -> None:
    broken_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "save_ad_asset", "arguments": '{"headline": '},
    }
    fake.enqueue(
        "openai",
        Reply(
            body={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": OPENAI_MODEL,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {"role": "assistant", "content": None, "tool_calls": [broken_call]},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        ),
    )

    with pytest.raises(ProviderError) as caught:
        openai_provider(fake).complete(text_request(tools=(SAVE_TOOL,)))

    assert (caught.value.error_type, caught.value.retryable) == (ErrorType.VALIDATION_ERROR, True)


def test_stream_yields_each_delta_then_one_final_completion(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee, ", "faster."], usage=(120, 30)))

    events = list(openai_provider(fake).stream(text_request()))

    # Chunks without text (the role, the finish reason, the usage) come as empty signs of life, which keep a slow
    # stream inside the chain's idle limit.
    assert [e.text for e in events[:-1]] == ["", "Fresh ", "coffee, ", "faster.", "", ""]
    assert all(e.completion is None for e in events[:-1])
    final = events[-1].completion
    assert final is not None and events[-1].text == ""
    assert (final.text, final.usage, final.cost_usd) == ("Fresh coffee, faster.", Usage(120, 30), COST_120_IN_30_OUT)
    body = fake.requests[0].body
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})


def test_stream_accumulates_tool_call_fragments(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(text="Saving it now.", tool_calls=[("save_ad_asset", {"headline": "Brew better"})]))

    events = list(openai_provider(fake).stream(text_request(tools=(SAVE_TOOL,))))

    assert "".join(e.text for e in events) == "Saving it now."
    final = events[-1].completion
    assert final is not None
    assert final.tool_calls == (
        ToolCall(id="call_fake_1", name="save_ad_asset", arguments={"headline": "Brew better"}),
    )


def test_stream_failing_before_its_first_event_raises_provider_error(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(status=503))
    events = openai_provider(fake).stream(text_request())

    with pytest.raises(ProviderError) as caught:
        next(events)

    assert (caught.value.error_type, caught.value.retryable, caught.value.status_code) == (
        ErrorType.PROVIDER_ERROR,
        True,
        503,
    )


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"cut_stream": True}, "connection to openai failed (APIConnectionError)"),
        ({"stream_error": "server_error"}, "error event in the stream from openai"),
    ],
    ids=["connection-cut", "error-event"],
)
def test_stream_failing_midway_raises_provider_error_after_the_partial_text(
    fake: FakeLLMServer, failure: dict, message: str
) -> None:
    fake.enqueue("openai", Reply(stream_chunks=["Fresh ", "coffee "], **failure))
    received: list[StreamEvent] = []

    with pytest.raises(ProviderError) as caught:
        for event in openai_provider(fake).stream(text_request()):
            received.append(event)

    assert [e.text for e in received if e.text] == ["Fresh ", "coffee "]
    error = caught.value
    assert (error.error_type, error.retryable, error.status_code, error.message) == (
        ErrorType.PROVIDER_ERROR,
        True,
        None,
        message,
    )


def test_generate_image_returns_png_bytes_and_its_price(fake: FakeLLMServer) -> None:
    result = openai_provider(fake).generate_image(ImageRequest(prompt="A latte on oak", size="1536x1024"))

    assert result.png_bytes.startswith(PNG_SIGNATURE)
    assert result.png_bytes == PNG_BYTES
    assert (result.provider, result.model, result.size, result.cost_usd) == (
        "openai",
        "gpt-image-1",
        "1536x1024",
        Decimal("0.042"),
    )
    [sent] = fake.requests
    # gpt-image models refuse response_format: it must not be sent.
    assert (sent.path, sent.body) == (
        "/v1/images/generations",
        {"model": "gpt-image-1", "prompt": "A latte on oak", "size": "1536x1024", "n": 1},
    )


def test_generate_image_without_an_image_model_is_unsupported_and_sends_nothing(fake: FakeLLMServer) -> None:
    with pytest.raises(UnsupportedOperation):
        openai_provider(fake, name="groq", image_model=None).generate_image(ImageRequest(prompt="A latte"))

    assert fake.requests == []


@pytest.mark.parametrize(
    ("reply", "error_type", "retryable", "status_code"),
    [
        (Reply(status=500), ErrorType.PROVIDER_ERROR, True, 500),
        (Reply(status=502), ErrorType.PROVIDER_ERROR, True, 502),
        (Reply(status=429, headers={"retry-after": "1"}), ErrorType.RATE_LIMIT, True, 429),
        (Reply(status=400), ErrorType.PROVIDER_ERROR, False, 400),
        (Reply(status=401), ErrorType.PROVIDER_ERROR, False, 401),
        (Reply(status=403), ErrorType.PROVIDER_ERROR, False, 403),
        (Reply(status=404), ErrorType.PROVIDER_ERROR, False, 404),
        (Reply(status=422), ErrorType.PROVIDER_ERROR, False, 422),
        (Reply(garbage=True), ErrorType.VALIDATION_ERROR, True, None),
        (Reply(body="<html>Bad gateway</html>"), ErrorType.VALIDATION_ERROR, True, None),
        (Reply(body={"unexpected": "shape"}), ErrorType.VALIDATION_ERROR, True, None),
    ],
    ids=["500", "502", "429", "400", "401", "403", "404", "422", "garbage", "html", "wrong-shape"],
)
def test_failures_map_to_provider_errors_after_exactly_one_request(
    fake: FakeLLMServer, reply: Reply, error_type: str, retryable: bool, status_code: int | None
) -> None:
    fake.enqueue("openai", reply)

    with pytest.raises(ProviderError) as caught:
        openai_provider(fake).complete(text_request())

    error = caught.value
    assert (error.provider, error.error_type, error.retryable, error.status_code) == (
        "openai",
        error_type,
        retryable,
        status_code,
    )
    assert len(fake.requests) == 1  # max_retries=0: the chain owns retries


def test_status_errors_carry_a_short_message_of_our_own(fake: FakeLLMServer) -> None:
    fake.enqueue(
        "openai",
        Reply(
            status=401,
            body={"error": {"message": f"Incorrect API key provided: {API_KEY}", "type": "invalid_request_error"}},
        ),
    )

    with pytest.raises(ProviderError) as caught:
        openai_provider(fake).complete(text_request())

    assert caught.value.message == "HTTP 401 from openai"
    assert API_KEY not in "".join(traceback.format_exception(caught.value))  # the SDK error is not chained


def test_a_hung_server_is_cut_by_the_timeout(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(hang=True))
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        openai_provider(fake, timeout_s=0.5).complete(text_request())

    assert 0.4 < time.monotonic() - started < 1.5
    assert (caught.value.error_type, caught.value.retryable) == (ErrorType.TIMEOUT, True)
    assert len(fake.requests) == 1


def test_an_unreachable_server_is_a_retryable_provider_error(unused_port: int) -> None:
    provider = OpenAIProvider(
        name="openai",
        api_key=API_KEY,
        base_url=f"http://127.0.0.1:{unused_port}/v1",
        model=OPENAI_MODEL,
        image_model=None,
        timeout_s=2.0,
    )

    with pytest.raises(ProviderError) as caught:
        provider.complete(text_request())

    assert (caught.value.error_type, caught.value.retryable, caught.value.status_code) == (
        ErrorType.PROVIDER_ERROR,
        True,
        None,
    )
