"""The fake LLM server itself: schema examples, scripted replies, and a clean shutdown with hung requests."""

import http.client
import json
import socket
import struct
import time
import zlib

import jsonschema
import pytest

from aicmo.testing.fake_llm_server import PNG_BYTES, FakeLLMServer, Reply, example_for_schema
from deliverables.kinds import KINDS


def post(fake: FakeLLMServer, path: str, body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", int(fake.base_url.rsplit(":", 1)[1]), timeout=5)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_examples_are_valid_for_every_deliverable_schema(kind: str) -> None:
    schema = KINDS[kind].schema({})

    jsonschema.validate(example_for_schema(schema), schema)


def test_examples_honour_lengths_counts_enums_and_patterns() -> None:
    schema = {
        "type": "object",
        "properties": {
            "body": {"type": "string", "minLength": 40},
            "title": {"type": "string", "maxLength": 10},
            "tone": {"enum": ["warm", "bold"]},
            "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 4},
            "score": {"type": "integer", "minimum": 5},
        },
        "required": ["body", "title", "tone", "date", "tags", "score", "extra"],
    }

    assert example_for_schema(schema) == {
        "body": "Sample text for body Sample text for body",
        "title": "Sample tex",
        "tone": "warm",
        "date": "2025-01-15",
        "tags": ["Sample text for tags 1", "Sample text for tags 2", "Sample text for tags 3"],
        "score": 5,
        "extra": "Sample text for extra",
    }


def test_the_image_is_a_real_png() -> None:
    assert PNG_BYTES[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", PNG_BYTES[16:24])
    idat_length = struct.unpack(">I", PNG_BYTES[33:37])[0]
    pixels = zlib.decompress(PNG_BYTES[41 : 41 + idat_length])
    assert (width, height, len(pixels)) == (64, 64, 64 * (1 + 64 * 3))


def test_queued_replies_are_used_in_order_then_defaults_apply(fake: FakeLLMServer) -> None:
    fake.enqueue("openai", Reply(status=500), Reply(text="second"))
    request = {"model": "m", "messages": [{"role": "user", "content": "Hello there"}]}

    answers = [post(fake, "/v1/chat/completions", request) for _ in range(3)]

    assert [status for status, _ in answers] == [500, 200, 200]
    assert answers[1][1]["choices"][0]["message"]["content"] == "second"
    assert (
        answers[2][1]["choices"][0]["message"]["content"]
        == "Here is a sample answer from the fake model about: Hello there"
    )
    assert [(r.path, r.body) for r in fake.requests] == [("/v1/chat/completions", request)] * 3


def test_default_status_and_fail_rate_shape_default_answers(fake: FakeLLMServer) -> None:
    request = {"model": "m", "messages": []}
    fake.default_status = 503
    assert post(fake, "/v1/messages", request)[0] == 503
    fake.default_status = 200
    fake.fail_rate = 1.0
    assert post(fake, "/v1/messages", request)[0] == 500


def test_stop_is_not_held_up_by_a_hung_request() -> None:
    fake = FakeLLMServer().start()
    fake.enqueue("openai", Reply(hang=True))
    client = socket.create_connection(("127.0.0.1", int(fake.base_url.rsplit(":", 1)[1])))
    client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    while not fake.requests:  # the handler has it and is now hanging
        time.sleep(0.01)
    started = time.monotonic()

    fake.stop()

    assert time.monotonic() - started < 1
    client.settimeout(2)
    assert client.recv(100) == b""  # the hung request was dropped, not answered
    client.close()
