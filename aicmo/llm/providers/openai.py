"""OpenAI Chat Completions and Images, through the official SDK. Also serves Groq and Ollama, which speak the
same API at another base URL."""

import base64
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import openai

from .. import pricing
from ..base import (
    Completion,
    CompletionRequest,
    ImageRequest,
    ImageResult,
    Message,
    StreamEvent,
    ToolCall,
    Usage,
)
from ..exceptions import ErrorType, ProviderError, UnsupportedOperation
from .sdk import LazyClient, elapsed_ms, http_client, json_object, priced, sdk_error, tool_arguments

logger = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- the provider ---------------------------------------------------------------------------------------------------


class OpenAIProvider:
    def __init__(
        self, *, name: str, api_key: str, base_url: str | None, model: str, image_model: str | None, timeout_s: float
    ):
        self.name = name
        self.model = model
        self.image_model = image_model
        # max_retries=0: the chain owns retries and fallback; SDK retries would multiply the timeout.
        self._client = LazyClient(
            lambda: openai.OpenAI(
                api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s, http_client=http_client()
            )
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(name={self.name!r}, model={self.model!r})"  # never the key

    @property
    def client(self) -> openai.OpenAI:
        return self._client.get()

    # --- text ----------------------------------------------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.monotonic()
        try:
            response = self.client.chat.completions.create(**self._params(request))
            message = response.choices[0].message
            usage = Usage(response.usage.prompt_tokens, response.usage.completion_tokens) if response.usage else Usage()
            text = message.content or ""
            tool_calls = tuple(
                ToolCall(
                    id=call.id,
                    name=call.function.name,
                    arguments=tool_arguments(call.function.arguments, provider=self.name, tool=call.function.name),
                )
                for call in message.tool_calls or ()
            )
        except Exception as error:
            raise sdk_error(error, provider=self.name, sdk=openai) from None  # the SDK error may quote the key
        return self._completion(request, text, tool_calls, usage, started)

    def stream(self, request: CompletionRequest) -> Iterator[StreamEvent]:
        started = time.monotonic()
        parts: list[str] = []
        calls: dict[int, dict[str, Any]] = {}  # tool-call fragments by index: id, name, argument pieces
        usage = Usage()
        try:
            events = self.client.chat.completions.create(
                **self._params(request), stream=True, stream_options={"include_usage": True}
            )
            with events:  # closes the connection if the consumer stops early
                for chunk in events:
                    sent = False
                    if chunk.usage:  # only on the last chunk
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        delta = choice.delta
                        for fragment in delta.tool_calls or ():
                            call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": []})
                            call["id"] = fragment.id or call["id"]
                            if fragment.function is not None:
                                call["name"] = fragment.function.name or call["name"]
                                call["arguments"].append(fragment.function.arguments or "")
                        if delta.content:
                            parts.append(delta.content)
                            sent = True
                            yield StreamEvent(text=delta.content)
                    if not sent:
                        yield StreamEvent()  # a sign of life (role, tool-call fragments, usage) for the idle limit
        except Exception as error:
            raise sdk_error(error, provider=self.name, sdk=openai) from None
        tool_calls = tuple(
            ToolCall(
                id=call["id"],
                name=call["name"],
                arguments=tool_arguments("".join(call["arguments"]), provider=self.name, tool=call["name"]),
            )
            for _, call in sorted(calls.items())
        )
        yield StreamEvent(completion=self._completion(request, "".join(parts), tool_calls, usage, started))

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": _wire_messages(request.system, request.messages),
            "temperature": request.temperature,
        }
        # OpenAI's newer models refuse `max_tokens`; the compatible servers (Groq, Ollama) know the old name.
        params["max_completion_tokens" if self.name == "openai" else "max_tokens"] = request.max_tokens
        if request.json_schema is not None:
            # strict=False: strict mode rejects common schema features (minLength, optional properties).
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.use_case),
                    "schema": dict(request.json_schema),
                    "strict": False,
                },
            }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": dict(tool.parameters),
                    },
                }
                for tool in request.tools
            ]
        return params

    def _completion(
        self, request: CompletionRequest, text: str, tool_calls: tuple[ToolCall, ...], usage: Usage, started: float
    ) -> Completion:
        # Priced by the configured model: the API answers with dated names the price list does not know.
        cost, warnings = priced(self.name, self.model, usage)
        data = json_object(text) if request.json_schema is not None else None
        return Completion(
            text=text,
            provider=self.name,
            model=self.model,
            usage=usage,
            latency_ms=elapsed_ms(started),
            cost_usd=cost,
            data=data,
            tool_calls=tool_calls,
            warnings=warnings,
        )

    # --- images --------------------------------------------------------------------------------------------------

    def generate_image(self, request: ImageRequest) -> ImageResult:
        if self.image_model is None:
            raise UnsupportedOperation(f"{self.name} has no image model", provider=self.name)
        started = time.monotonic()
        # gpt-image models always answer in base64 and refuse `response_format`; DALL·E defaults to URLs.
        extra = {"response_format": "b64_json"} if self.image_model.startswith("dall-e") else {}
        try:
            response = self.client.images.generate(
                model=self.image_model, prompt=request.prompt, size=request.size, n=1, **extra
            )
            png = base64.b64decode(response.data[0].b64_json, validate=True)
        except Exception as error:
            raise sdk_error(error, provider=self.name, sdk=openai) from None
        if not png.startswith(PNG_SIGNATURE):
            raise ProviderError(
                f"image from {self.name} is not a PNG", provider=self.name, error_type=ErrorType.VALIDATION_ERROR
            )
        return ImageResult(
            png_bytes=png,
            provider=self.name,
            model=self.image_model,
            size=request.size,
            latency_ms=elapsed_ms(started),
            cost_usd=pricing.image_cost(self.name, self.image_model),
        )


def _wire_messages(system: str, messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "tool":
            wire.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content})
        elif message.tool_calls:
            wire.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            wire.append({"role": message.role, "content": message.content})
    return wire


def _schema_name(use_case: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", use_case)[:64] or "answer"  # the API's allowed name characters
