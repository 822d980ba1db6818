"""Providers pointed at the fake server, and requests, as the provider and chain tests build them."""

from typing import Any

from aicmo.llm.base import CompletionRequest, Message, ToolSpec
from aicmo.llm.providers.anthropic import AnthropicProvider
from aicmo.llm.providers.openai import OpenAIProvider
from aicmo.testing.fake_llm_server import FakeLLMServer

API_KEY = "sk-test-SECRET-123"  # must never show up in logs, errors or call records
OPENAI_MODEL = "gpt-4.1-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"  # priced, and not deprecated by the SDK (claude-sonnet-4-5 warns)

AD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "headline": {"type": "string", "minLength": 1, "maxLength": 60},
        "hashtags": {"type": "array", "items": {"type": "string", "pattern": r"^#\w+$"}, "minItems": 2, "maxItems": 3},
    },
    "required": ["headline", "hashtags"],
    "additionalProperties": False,
}
SAVE_TOOL = ToolSpec(
    name="save_ad_asset",
    description="Save an ad asset to the campaign.",
    parameters={"type": "object", "properties": {"headline": {"type": "string"}}, "required": ["headline"]},
)


def openai_provider(
    fake: FakeLLMServer,
    *,
    timeout_s: float = 5.0,
    name: str = "openai",
    model: str = OPENAI_MODEL,
    image_model: str | None = "gpt-image-1",
) -> OpenAIProvider:
    return OpenAIProvider(
        name=name,
        api_key=API_KEY,
        base_url=fake.openai_base_url,
        model=model,
        image_model=image_model,
        timeout_s=timeout_s,
    )


def anthropic_provider(
    fake: FakeLLMServer, *, timeout_s: float = 5.0, model: str = ANTHROPIC_MODEL
) -> AnthropicProvider:
    return AnthropicProvider(api_key=API_KEY, base_url=fake.anthropic_base_url, model=model, timeout_s=timeout_s)


def text_request(prompt: str = "Write a tagline for Bean There coffee", **fields: Any) -> CompletionRequest:
    return CompletionRequest(
        system="You are a marketer.", messages=(Message("user", prompt),), use_case="studio", **fields
    )


def ad_request(**fields: Any) -> CompletionRequest:
    return CompletionRequest(
        system="You are a marketer.",
        messages=(Message("user", "Write the ad."),),
        use_case="ad_copy",
        json_schema=AD_SCHEMA,
        **fields,
    )
