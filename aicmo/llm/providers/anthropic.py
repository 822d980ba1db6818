"""Anthropic Messages, through the official SDK.

Structured answers use a forced tool: the model must call `deliver` with the answer as the tool's input, which
the API checks against the input schema (the Messages API's way to get JSON that fits a schema).
"""

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic

from ..base import Completion, CompletionRequest, ImageRequest, ImageResult, Message, StreamEvent, ToolCall, Usage
from ..exceptions import UnsupportedOperation
from .sdk import LazyClient, elapsed_ms, http_client, json_object, priced, sdk_error, tool_arguments

DELIVER_TOOL = "deliver"


class AnthropicProvider:
    name = "anthropic"
    image_model = None  # the Messages API makes no images

    def __init__(self, *, api_key: str, base_url: str | None, model: str, timeout_s: float):
        self.model = model
        # max_retries=0: the chain owns retries; the SDK would honour a Retry-After of hours.
        self._client = LazyClient(
            lambda: anthropic.Anthropic(
                api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s, http_client=http_client()
            )
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r})"  # never the key

    @property
    def client(self) -> anthropic.Anthropic:
        return self._client.get()

    # --- text ----------------------------------------------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.monotonic()
        try:
            response = self.client.messages.create(**self._params(request))
            usage = Usage(response.usage.input_tokens, response.usage.output_tokens)
            text = "".join(block.text for block in response.content if block.type == "text")
            tool_uses = [(block.id, block.name, block.input) for block in response.content if block.type == "tool_use"]
        except Exception as error:
            raise sdk_error(error, provider=self.name, sdk=anthropic) from None  # the SDK error may quote the key
        return self._completion(request, text, tool_uses, usage, started)

    def stream(self, request: CompletionRequest) -> Iterator[StreamEvent]:
        started = time.monotonic()
        parts: list[str] = []
        tool_blocks: dict[int, tuple[str, str, list[str]]] = {}  # by block index: id, name, input JSON pieces
        tokens_in = tokens_out = 0
        try:
            events = self.client.messages.create(**self._params(request), stream=True)
            with events:  # closes the connection if the consumer stops early
                for event in events:
                    text = ""
                    if event.type == "message_start":
                        tokens_in = event.message.usage.input_tokens
                        tokens_out = event.message.usage.output_tokens
                    elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                        tool_blocks[event.index] = (event.content_block.id, event.content_block.name, [])
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        text = event.delta.text
                    elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                        _, name, pieces = tool_blocks[event.index]
                        pieces.append(event.delta.partial_json)
                        if name == DELIVER_TOOL and request.json_schema is not None:
                            # The structured answer is this tool's input: stream it as OpenAI streams its JSON.
                            text = event.delta.partial_json
                    elif event.type == "message_delta":
                        tokens_out = event.usage.output_tokens  # cumulative
                        tokens_in = getattr(event.usage, "input_tokens", None) or tokens_in
                    if text:
                        parts.append(text)
                    # Every event counts for the idle limit; one without text is an empty sign of life.
                    yield StreamEvent(text=text)
        except Exception as error:
            raise sdk_error(error, provider=self.name, sdk=anthropic) from None
        tool_uses = [(call_id, name, "".join(pieces)) for _, (call_id, name, pieces) in sorted(tool_blocks.items())]
        text = "".join(parts)
        yield StreamEvent(completion=self._completion(request, text, tool_uses, Usage(tokens_in, tokens_out), started))

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "messages": _wire_messages(request.messages),
            # No temperature: messages.create in this SDK (anthropic 2.x) has no such parameter.
        }
        if request.system:
            params["system"] = request.system
        if request.json_schema is not None:
            # Forcing `deliver` means no other tool could be called, so it is the only one offered.
            params["tools"] = [
                {"name": DELIVER_TOOL, "description": "Deliver the answer.", "input_schema": dict(request.json_schema)}
            ]
            params["tool_choice"] = {"type": "tool", "name": DELIVER_TOOL}
        elif request.tools:
            params["tools"] = [
                {"name": tool.name, "description": tool.description, "input_schema": dict(tool.parameters)}
                for tool in request.tools
            ]
        return params

    def _completion(
        self, request: CompletionRequest, text: str, tool_uses: list[tuple[str, str, Any]], usage: Usage, started: float
    ) -> Completion:
        """`tool_uses` holds (id, name, input): a dict from a plain answer, JSON text from a stream."""
        calls = [
            ToolCall(id=call_id, name=name, arguments=tool_arguments(raw, provider=self.name, tool=name))
            for call_id, name, raw in tool_uses
        ]
        data = None
        if request.json_schema is not None:
            deliver = next((call for call in calls if call.name == DELIVER_TOOL), None)
            if deliver is not None:
                data = dict(deliver.arguments)
                # A stream keeps the JSON text it sent as deltas; a plain answer has no text of its own.
                text = text if text and json_object(text) == data else json.dumps(data)
            else:  # the model wrote text instead: the chain will parse it or ask for a repair
                data = json_object(text)
            calls = []
        cost, warnings = priced(self.name, self.model, usage)
        return Completion(
            text=text,
            provider=self.name,
            model=self.model,
            usage=usage,
            latency_ms=elapsed_ms(started),
            cost_usd=cost,
            data=data,
            tool_calls=tuple(calls),
            warnings=warnings,
        )

    def generate_image(self, request: ImageRequest) -> ImageResult:
        raise UnsupportedOperation("anthropic has no image model", provider=self.name)


def _wire_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            role = "user"  # tool results travel in a user turn
            blocks: list[dict[str, Any]] = [
                {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
            ]
        else:
            role = message.role
            blocks = [{"type": "text", "text": message.content}] if message.content else []
            blocks += [
                {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)}
                for call in message.tool_calls
            ]
        # Roles must alternate: consecutive turns of one role (e.g. the results of parallel calls) share a message.
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    return wire
