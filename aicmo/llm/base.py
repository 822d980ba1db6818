"""The one interface every LLM provider implements, and the frozen values that cross it."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # on assistant messages
    tool_call_id: str = ""  # on tool messages: the call this answers


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON Schema of the arguments


@dataclass(frozen=True)
class CompletionRequest:
    """What to ask. `task` and `context` let the offline provider write from templates without an LLM."""

    system: str
    messages: tuple[Message, ...]
    use_case: str  # a deliverable kind or "studio"; recorded with every call
    task: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
    json_schema: Mapping[str, Any] | None = None  # when set, the answer must be JSON valid against it
    # What the answer is checked against on arrival, when it differs from what the model is asked for (e.g.
    # without the `maxLength` a shortener enforces afterwards); None: `json_schema` itself.
    validation_schema: Mapping[str, Any] | None = None
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int = 1800
    temperature: float = 0.7
    trace_id: str = ""


@dataclass(frozen=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0

    @property
    def total(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(frozen=True)
class Completion:
    text: str
    provider: str
    model: str
    usage: Usage = Usage()
    latency_ms: int = 0
    cost_usd: Decimal | None = None
    data: Mapping[str, Any] | None = None  # the parsed JSON when the request had a json_schema
    tool_calls: tuple[ToolCall, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamEvent:
    """A piece of a streamed answer: text as it comes, then one final event with the whole Completion. An event
    with neither (a chunk that carried no text: a role, tool-call fragments, a ping) is a sign of life that
    keeps a slow but working stream inside the chain's idle limit; the chain does not pass it on."""

    text: str = ""
    completion: Completion | None = None


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    size: str = "1024x1024"  # one of the sizes in IMAGE_SIZES
    trace_id: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageResult:
    png_bytes: bytes
    provider: str
    model: str
    size: str
    latency_ms: int = 0
    cost_usd: Decimal | None = None


# Shapes a marketer asks for, mapped to sizes image models accept.
IMAGE_SIZES = {"square": "1024x1024", "portrait": "1024x1536", "landscape": "1536x1024"}


@runtime_checkable
class LLMProvider(Protocol):
    """A provider. Each method raises `ProviderError` (retryable or terminal) and nothing else."""

    name: str
    model: str
    image_model: str | None  # None: this provider makes no images (the chain does not ask it)

    def complete(self, request: CompletionRequest) -> Completion: ...

    def stream(self, request: CompletionRequest) -> Iterator[StreamEvent]: ...

    def generate_image(self, request: ImageRequest) -> ImageResult: ...
