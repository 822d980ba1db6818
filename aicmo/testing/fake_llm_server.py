"""A local fake of the OpenAI and Anthropic HTTP APIs, for tests, benchmarks and fault drills.

It speaks just enough of both wire formats for the official SDKs: chat completions (plain and SSE), image
generation, and messages (plain and SSE). Scenarios are queued per endpoint from Python
(`fake.enqueue("openai", Reply(status=500))`) and consumed in order; when a queue is empty a default answer
is synthesised: valid against the request's JSON Schema when it carries one, else a short echo. Faults: errors,
hangs, garbage, cut or failing streams, delays, slow streams (`chunk_delay_s`) and trickling bodies (`trickle`:
a few bytes every few seconds, which per-read timeouts never catch).

    with FakeLLMServer() as fake:
        client = openai.OpenAI(api_key="sk-test", base_url=fake.openai_base_url)

Run bare for benchmarks and drills: `python -m aicmo.testing.fake_llm_server --port 8765 --latency 1.0`.
No Django import here, so benchmarks can use it outside the project settings.
"""

import argparse
import base64
import itertools
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Endpoint = Literal["openai", "anthropic", "images"]
ENDPOINTS: dict[str, Endpoint] = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/v1/images/generations": "images",
}
HANG_S = 3600.0  # longer than any client timeout; a stopping server wakes hung handlers at once


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Fields left at their defaults fall back to the synthesised answer."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None  # the answer's text (for a schema request: sent as is, so it may be invalid)
    json: Any = None  # the structured answer (OpenAI: the message content; Anthropic: the forced tool's input)
    tool_calls: Sequence[tuple[str, Mapping[str, Any]]] = ()  # (tool name, arguments)
    stream_chunks: Sequence[str] | None = None  # text deltas, when the client streams
    usage: tuple[int, int] | None = None  # (tokens in, tokens out); default: about 4 characters a token
    hang: bool = False  # accept the request and never answer
    garbage: bool = False  # 200 with a JSON content type and a body that is not JSON
    body: Any = None  # sent as is (a str, or JSON for anything else), with `status`; overrides everything
    cut_stream: bool = False  # drop the connection after the text chunks, before the stream ends
    stream_error: str | None = None  # after the text chunks, an error event of this type (e.g. "overloaded_error")
    delay_s: float = 0.0  # added to the server's latency, for this reply only
    chunk_delay_s: float | None = None  # seconds before each streamed event, for this reply (else the server's)
    trickle: tuple[int, float] | None = None  # (bytes, seconds): send the body that many bytes at a time, then wait


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    body: Any  # the parsed JSON body, or None

    @property
    def endpoint(self) -> Endpoint | None:
        return ENDPOINTS.get(self.path)


@dataclass
class _Answer:
    """What the fake model says, before it is written in either provider's wire format."""

    text: str
    tool_calls: list[tuple[str, str, Mapping[str, Any]]]  # (id, name, arguments)
    tokens_in: int
    tokens_out: int
    chunks: list[str]
    cut: bool = False  # end the stream abruptly after the text
    error: str | None = None  # end the stream with an error event after the text


class FakeLLMServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        fail_rate: float = 0.0,
        default_status: int = 200,
        seed: int | None = None,
        record_requests: bool = True,
        overlong: float = 0.0,
        obey_rate: float = 0.5,
    ):
        self.latency_s = latency_s  # before every answer
        self.chunk_delay_s = chunk_delay_s  # between streamed chunks
        self.fail_rate = fail_rate  # share of default answers replaced by a 500
        self.default_status = default_status  # status of default answers (e.g. 503 for a dead provider)
        # Deliberately long answers, to exercise a shortener: synthesised `text` fields come out `overlong`
        # times longer than their schema's maxLength. A request asking for "at most N characters" is obeyed
        # with probability `obey_rate`, else answered 10 % over N.
        self.overlong = overlong
        self.obey_rate = obey_rate
        self.requests: list[ReceivedRequest] = []
        self.record_requests = record_requests  # off for a long-running server, whose list would only grow
        self._queues: dict[str, deque[Reply]] = {name: deque() for name in ("openai", "anthropic", "images")}
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self

    # --- addresses -------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"  # the OpenAI SDK's paths are relative to /v1

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url  # the Anthropic SDK adds /v1 itself

    # --- scenario control ------------------------------------------------------------------------------

    def enqueue(self, endpoint: Endpoint, *replies: Reply) -> None:
        with self._lock:
            self._queues[endpoint].extend(replies)

    def requests_to(self, endpoint: Endpoint) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def reset(self) -> None:
        """Forget received requests and queued replies, and restore the defaults."""
        with self._lock:
            self.requests.clear()
            for queue in self._queues.values():
                queue.clear()
        self.latency_s = self.chunk_delay_s = self.fail_rate = self.overlong = 0.0
        self.obey_rate = 0.5
        self.default_status = 200

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> "FakeLLMServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._stopping.set()  # wakes hung and sleeping handlers so none outlives the server
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- used by the handler ---------------------------------------------------------------------------

    def _record(self, request: ReceivedRequest) -> None:
        if self.record_requests:
            with self._lock:
                self.requests.append(request)

    def _next_reply(self, endpoint: Endpoint) -> Reply:
        with self._lock:
            if self._queues[endpoint]:
                return self._queues[endpoint].popleft()
            if self.fail_rate and self._random.random() < self.fail_rate:
                return Reply(status=500)
        return Reply(status=self.default_status)

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False when it is."""
        return seconds <= 0 or not self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung handler must not keep the process alive
    request_queue_size = 256  # the default backlog of 5 refuses connections under a parallel benchmark
    fake: FakeLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is not news
            super().handle_error(request, client_address)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        # Without it, small writes wait for the client's delayed ACK: every call pays about 40 ms.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    server: _Server
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._send_json(200, {"ok": True})  # a health check for scripts waiting on the CLI server

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = self.path.split("?", 1)[0]
        fake._record(ReceivedRequest("POST", path, {k.lower(): v for k, v in self.headers.items()}, body))
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        reply = fake._next_reply(endpoint)
        try:
            self._answer(fake, endpoint, reply, body if isinstance(body, dict) else {})
        except ConnectionError:  # the client gave up (e.g. its timeout), or the server is stopping
            self.close_connection = True

    def _answer(self, fake: FakeLLMServer, endpoint: Endpoint, reply: Reply, body: dict[str, Any]) -> None:
        self._trickle = reply.trickle
        if not fake._sleep(fake.latency_s + reply.delay_s):
            self.close_connection = True
            return
        if reply.hang:
            fake._sleep(HANG_S)
            self.close_connection = True
            return
        if reply.body is not None:
            if isinstance(reply.body, str):
                self._send(reply.status, reply.body.encode(), "text/plain", reply.headers)
            else:
                self._send_json(reply.status, reply.body, reply.headers)
        elif reply.garbage:
            self._send(200, b"<html>upstream proxy error {not json", "application/json", reply.headers)
        elif reply.status >= 400:
            self._send_json(reply.status, _error_body(endpoint, reply.status), reply.headers)
        elif endpoint == "images":
            count = int(body.get("n") or 1)
            self._send_json(200, {"created": int(time.time()), "data": [{"b64_json": PNG_B64}] * count}, reply.headers)
        elif endpoint == "openai":
            answer = _openai_answer(reply, body, fake)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._stream(fake, _openai_events(fake, body, answer, include_usage), reply)
            else:
                self._send_json(200, _openai_completion(fake, body, answer), reply.headers)
        else:
            answer, forced = _anthropic_answer(reply, body, fake)
            if body.get("stream"):
                self._stream(fake, _anthropic_events(fake, body, answer, forced), reply)
            else:
                self._send_json(200, _anthropic_message(fake, body, answer, forced), reply.headers)

    # --- writing ---------------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send(self, status: int, data: bytes, content_type: str, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self._write(data)

    def _write(self, data: bytes) -> None:
        """Write body bytes, at once or, for a trickling reply, a few at a time: each piece resets the client's
        per-read timeout, so only a whole-call deadline stops such an answer."""
        trickle = getattr(self, "_trickle", None)
        if not trickle:
            self.wfile.write(data)
            return
        size, every_s = trickle
        for start in range(0, len(data), size):
            if start and not self.server.fake._sleep(every_s):
                raise ConnectionAbortedError("the fake server is stopping")
            self.wfile.write(data[start : start + size])

    def _stream(self, fake: FakeLLMServer, events: Iterator[str | None], reply: Reply) -> None:
        """Server-sent events over chunked encoding, so the connection stays reusable afterwards.
        A None event means: cut the connection here (`Reply(cut_stream=True)`)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        delay_s = fake.chunk_delay_s if reply.chunk_delay_s is None else reply.chunk_delay_s
        for event in events:
            if event is None or not fake._sleep(delay_s):
                self.close_connection = True
                return
            data = event.encode()
            self._write(b"%X\r\n%s\r\n" % (len(data), data))
        self._write(b"0\r\n\r\n")


# --- answers -----------------------------------------------------------------------------------------------


def _words(value: Any) -> str:
    """The text in a message's content, whether a string or a list of content blocks."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(
            _words(block.get("text") or block.get("content") or "") for block in value if isinstance(block, dict)
        )
    return ""


def _default_text(messages: Sequence[Mapping[str, Any]]) -> str:
    last_user = next((_words(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    echo = " ".join(last_user.split()[:12])
    return (
        f"Here is a sample answer from the fake model about: {echo}"
        if echo
        else "Here is a sample answer from the fake model."
    )


def _make_answer(
    reply: Reply, body: Mapping[str, Any], text: str, tool_calls: list[tuple[str, str, Mapping[str, Any]]]
) -> _Answer:
    prompt = json.dumps(body.get("messages") or []) + _words(body.get("system") or "")
    if reply.usage is not None:
        tokens_in, tokens_out = reply.usage
    else:
        tokens_in = max(1, len(prompt) // 4)
        tokens_out = max(1, (len(text) + len(json.dumps([c[2] for c in tool_calls]))) // 4)
    chunks = list(reply.stream_chunks) if reply.stream_chunks is not None else re.findall(r"\S+\s*", text)
    return _Answer(text, tool_calls, tokens_in, tokens_out, chunks, reply.cut_stream, reply.stream_error)


def _scripted_calls(reply: Reply, id_prefix: str) -> list[tuple[str, str, Mapping[str, Any]]]:
    return [(f"{id_prefix}{i}", name, args) for i, (name, args) in enumerate(reply.tool_calls, 1)]


def _openai_answer(reply: Reply, body: Mapping[str, Any], fake: FakeLLMServer | None = None) -> _Answer:
    response_format = body.get("response_format") or {}
    schema = (
        (response_format.get("json_schema") or {}).get("schema")
        if response_format.get("type") == "json_schema"
        else None
    )
    if reply.json is not None:
        text = reply.json if isinstance(reply.json, str) else json.dumps(reply.json)
    elif reply.text is not None:
        text = reply.text
    elif reply.tool_calls:
        text = ""
    elif schema is not None:
        text = json.dumps(_stretched(fake, schema, example_for_schema(schema), body))
    else:
        text = _default_text(body.get("messages") or [])
    return _make_answer(reply, body, text, _scripted_calls(reply, "call_fake_"))


def _openai_completion(fake: FakeLLMServer, body: Mapping[str, Any], answer: _Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.text or None, "refusal": None}
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for call_id, name, args in answer.tool_calls
        ]
    return {
        "id": f"chatcmpl-fake-{fake._next_id()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or "fake-model",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if answer.tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": answer.tokens_in,
            "completion_tokens": answer.tokens_out,
            "total_tokens": answer.tokens_in + answer.tokens_out,
        },
    }


def _openai_events(
    fake: FakeLLMServer, body: Mapping[str, Any], answer: _Answer, include_usage: bool
) -> Iterator[str | None]:
    base = {
        "id": f"chatcmpl-fake-{fake._next_id()}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model") or "fake-model",
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        payload = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        if include_usage:
            payload["usage"] = None  # as the real API does: only the last chunk carries usage
        return f"data: {json.dumps(payload)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in answer.chunks:
        yield chunk({"content": piece})
    if answer.cut:
        yield None
    if answer.error:  # the API's way to fail after it has started answering
        yield f"data: {json.dumps({'error': {'message': 'fake stream error', 'type': answer.error}})}\n\n"
        return
    for index, (call_id, name, args) in enumerate(answer.tool_calls):
        yield chunk(
            {
                "tool_calls": [
                    {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
                ]
            }
        )
        arguments = json.dumps(args)
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):  # arguments arrive in fragments
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    yield chunk({}, "tool_calls" if answer.tool_calls else "stop")
    if include_usage:
        usage = {
            "prompt_tokens": answer.tokens_in,
            "completion_tokens": answer.tokens_out,
            "total_tokens": answer.tokens_in + answer.tokens_out,
        }
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def _anthropic_answer(
    reply: Reply, body: Mapping[str, Any], fake: FakeLLMServer | None = None
) -> tuple[_Answer, str | None]:
    """The answer, and the name of the tool the request forces (its structured-output tool), if any."""
    choice = body.get("tool_choice") or {}
    forced = choice.get("name") if choice.get("type") == "tool" else None
    schema = next((t.get("input_schema") for t in body.get("tools") or [] if t.get("name") == forced), None)
    calls = _scripted_calls(reply, "toolu_fake_")
    if forced and isinstance(reply.json, dict):
        calls, text = [("toolu_fake_0", forced, reply.json)], ""
    elif reply.json is not None:  # not an object: the model ignored the tool and wrote this
        text = reply.json if isinstance(reply.json, str) else json.dumps(reply.json)
    elif reply.text is not None:
        text = reply.text
    elif calls:
        text = ""
    elif forced and schema is not None:
        calls, text = [("toolu_fake_0", forced, _stretched(fake, schema, example_for_schema(schema), body))], ""
    else:
        text = _default_text(body.get("messages") or [])
    return _make_answer(reply, body, text, calls), forced


def _anthropic_blocks(answer: _Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": answer.text}] if answer.text else []
    blocks += [
        {"type": "tool_use", "id": call_id, "name": name, "input": args} for call_id, name, args in answer.tool_calls
    ]
    return blocks


def _anthropic_message(
    fake: FakeLLMServer, body: Mapping[str, Any], answer: _Answer, forced: str | None
) -> dict[str, Any]:
    return {
        "id": f"msg_fake_{fake._next_id()}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model") or "fake-model",
        "content": _anthropic_blocks(answer),
        "stop_reason": "tool_use" if answer.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": answer.tokens_in, "output_tokens": answer.tokens_out},
    }


def _anthropic_events(
    fake: FakeLLMServer, body: Mapping[str, Any], answer: _Answer, forced: str | None
) -> Iterator[str | None]:
    def event(name: str, payload: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps({'type': name, **payload})}\n\n"

    message = _anthropic_message(fake, body, answer, forced)
    yield event(
        "message_start",
        {
            "message": {
                **message,
                "content": [],
                "stop_reason": None,
                "usage": {"input_tokens": answer.tokens_in, "output_tokens": 1},
            }
        },
    )
    yield event("ping", {})
    index = 0
    if answer.text:
        yield event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
        for piece in answer.chunks:
            yield event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}})
        yield event("content_block_stop", {"index": index})
        index += 1
    if answer.cut:
        yield None
    if answer.error:
        yield event("error", {"error": {"type": answer.error, "message": "fake stream error"}})
        return
    for call_id, name, args in answer.tool_calls:
        yield event(
            "content_block_start",
            {"index": index, "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}}},
        )
        arguments = json.dumps(args)
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            yield event(
                "content_block_delta", {"index": index, "delta": {"type": "input_json_delta", "partial_json": part}}
            )
        yield event("content_block_stop", {"index": index})
        index += 1
    yield event(
        "message_delta",
        {
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": answer.tokens_out},
        },
    )
    yield event("message_stop", {})


_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _error_body(endpoint: Endpoint, status: int) -> dict[str, Any]:
    message = f"fake error: HTTP {status}"
    if endpoint == "anthropic":
        return {"type": "error", "error": {"type": _ANTHROPIC_ERROR_TYPES.get(status, "api_error"), "message": message}}
    kind = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


# --- deliberately long answers ------------------------------------------------------------------------------

OVERLONG_FIELDS = frozenset({"text"})
_AT_MOST = re.compile(r"at most (\d+) characters")


def _stretched(fake: FakeLLMServer | None, schema: Mapping[str, Any], data: Any, body: Mapping[str, Any]) -> Any:
    """`data` with its `text` fields made too long, when the server is set to answer `overlong`."""
    if fake is None or not fake.overlong or not isinstance(data, dict):
        return data
    asked = _AT_MOST.findall(_words((body.get("messages") or [{}])[-1].get("content")))
    properties = schema.get("properties") or {}
    for key, sub in properties.items():
        if key in OVERLONG_FIELDS and isinstance(data.get(key), str) and sub.get("maxLength"):
            if asked:  # a shortening request: obey it, or overshoot a little
                target = int(asked[-1])
                with fake._lock:
                    obeys = fake._random.random() < fake.obey_rate
                length = max(target - 80, 20) if obeys else int(target * 1.1)
            else:
                length = int(sub["maxLength"] * (1 + fake.overlong))
            data[key] = long_text(length)
    return data


def long_text(length: int) -> str:
    """About `length` characters of sentences, as a talkative model writes them."""
    sentences = itertools.cycle(
        (
            "This sample sentence keeps going well past the point where a reader stops.",
            "Another clause follows, with details nobody asked for, and a second thought.",
            "The call to action arrives eventually; it is buried here.",
        )
    )
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < length:
        parts.append(next(sentences))
    return " ".join(parts)[:length].rsplit(" ", 1)[0]


# --- schema examples ---------------------------------------------------------------------------------------

_FORMATS = {
    "date": "2025-01-15",
    "date-time": "2025-01-15T09:00:00Z",
    "email": "sample@example.com",
    "uri": "https://example.com/sample",
    "url": "https://example.com/sample",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def example_for_schema(
    schema: Mapping[str, Any], name: str = "answer", *, _root: Mapping[str, Any] | None = None
) -> Any:
    """A small instance valid against `schema`, with readable strings ("Sample text for <property>").

    Honours type, properties, required, items, minItems/maxItems, enum/const, minLength/maxLength,
    minimum/maximum, common formats, simple patterns, anyOf/oneOf (first branch) and local $refs.
    """
    root = _root if _root is not None else schema
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        return example_for_schema(target, name, _root=root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for_schema(schema[key][0], name, _root=root)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return example_for_schema({**merged, **{k: v for k, v in schema.items() if k != "allOf"}}, name, _root=root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        result = {key: example_for_schema(sub, key, _root=root) for key, sub in properties.items()}
        for key in schema.get("required") or []:
            result.setdefault(key, f"Sample text for {key}")
        return result
    if kind == "array":
        count = max(int(schema.get("minItems", 0)), 1)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        items = schema.get("items") or {}
        return [example_for_schema(items, f"{name} {i}", _root=root) for i in range(1, count + 1)]
    if kind in ("integer", "number"):
        return _number_example(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string_example(schema, name)


def _number_example(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    value: float = 1
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema:
        value = max(value, schema["exclusiveMinimum"] + 1)
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if "exclusiveMaximum" in schema:
        value = min(value, schema["exclusiveMaximum"] - 1)
    return int(value) if integer else float(value)


def _string_example(schema: Mapping[str, Any], name: str) -> str:
    min_length = int(schema.get("minLength", 0))
    max_length = schema.get("maxLength")
    readable = f"Sample text for {name}"
    word = re.sub(r"\W", "", name) or "sample"
    candidates = [_FORMATS[schema["format"]]] if schema.get("format") in _FORMATS else []
    # Without a pattern the readable text wins; with one, the first candidate that matches it.
    candidates += [
        readable,
        _FORMATS["date"],
        f"#{word}",
        word,
        "sample",
        "Sample",
        "SAMPLE",
        "12345",
        "sample-text",
        _FORMATS["uri"],
        _FORMATS["email"],
    ]
    pattern = schema.get("pattern")
    for candidate in candidates:
        text = _fit(candidate, min_length, max_length)
        if pattern is None or re.search(pattern, text):
            return text
    return _fit(readable, min_length, max_length)


def _fit(text: str, min_length: int, max_length: int | None) -> str:
    base = text
    while len(text) < min_length:
        text = f"{text} {base}"
    if max_length is not None:
        text = text[:max_length]
    return text


# --- a real PNG ----------------------------------------------------------------------------------------------


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PNG_BYTES = _png(64, 64, (46, 125, 220))
PNG_B64 = base64.b64encode(PNG_BYTES).decode()


# --- command line --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake OpenAI / Anthropic API for benchmarks and drills.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of answers replaced by a 500")
    parser.add_argument("--status", type=int, default=200, help="status of every answer (e.g. 503)")
    parser.add_argument("--overlong", type=float, default=0.0, help="text fields this much over their maxLength")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    _Handler.verbose = args.verbose
    fake = FakeLLMServer(
        args.host,
        args.port,
        latency_s=args.latency,
        chunk_delay_s=args.chunk_delay,
        fail_rate=args.fail_rate,
        default_status=args.status,
        record_requests=False,
        overlong=args.overlong,
    )
    print(f"fake LLM server on {fake.base_url} (OpenAI base URL {fake.openai_base_url})", flush=True)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
