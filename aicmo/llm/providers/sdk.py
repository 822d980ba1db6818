"""What the OpenAI and Anthropic providers share: a lazily built SDK client, error mapping (both SDKs raise the
same family of exceptions), costing, and reading tool arguments and JSON answers."""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import ModuleType
from typing import Any, Generic, TypeVar

import httpx2

from .. import pricing
from ..base import Usage
from ..exceptions import ErrorType, ProviderError

logger = logging.getLogger(__name__)

_RETRYABLE_4XX = {408, 409, 429}  # what the SDKs themselves would retry; every other 4xx is the request's fault

Client = TypeVar("Client")


class LazyClient(Generic[Client]):
    """An SDK client built on first use, then shared by threads (the SDKs' connection pools are thread-safe)."""

    def __init__(self, build: Callable[[], Client]):
        self._build = build
        self._client: Client | None = None
        self._lock = threading.Lock()

    def get(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client


def sdk_error(error: BaseException, *, provider: str, sdk: ModuleType) -> ProviderError:
    """One failure of an SDK call (`sdk` is the `openai` or `anthropic` module) as a ProviderError.

    Messages are written here, never copied from the SDK: its messages quote response bodies, and a 401 body
    quotes the API key ("Incorrect API key provided: sk-...").
    """
    if isinstance(error, ProviderError):
        return error
    kind = type(error).__name__
    if isinstance(error, sdk.APITimeoutError | httpx2.TimeoutException):
        return ProviderError(f"timed out waiting for {provider}", provider=provider, error_type=ErrorType.TIMEOUT)
    if isinstance(error, sdk.APIConnectionError | httpx2.TransportError):
        return ProviderError(f"connection to {provider} failed ({kind})", provider=provider)
    if isinstance(error, sdk.APIResponseValidationError):
        return ProviderError(
            f"unreadable answer from {provider}",
            provider=provider,
            error_type=ErrorType.VALIDATION_ERROR,
            status_code=error.status_code,
        )
    if isinstance(error, sdk.APIStatusError):
        status = error.status_code
        if isinstance(error, sdk.RateLimitError) or status == 429:
            return ProviderError(
                f"HTTP 429 (rate limited) from {provider}",
                provider=provider,
                error_type=ErrorType.RATE_LIMIT,
                status_code=status,
            )
        if status < 400:  # an error event inside a 200 stream (e.g. overloaded): the provider's trouble
            return ProviderError(f"error event in the stream from {provider}", provider=provider)
        retryable = status >= 500 or status in _RETRYABLE_4XX
        return ProviderError(
            f"HTTP {status} from {provider}", provider=provider, retryable=retryable, status_code=status
        )
    if isinstance(error, sdk.APIError):  # an error event in a stream, without a status
        return ProviderError(f"error event in the stream from {provider}", provider=provider)
    # Not an SDK error: the traceback is logged (it holds no response body) so that a bug here stays visible.
    logger.warning("unexpected %s from %s", kind, provider, exc_info=error)
    if isinstance(error, ValueError | TypeError | KeyError | IndexError | AttributeError):
        # A body that is not JSON, or JSON of the wrong shape (the SDKs do not validate answers).
        return ProviderError(
            f"unreadable answer from {provider} ({kind})", provider=provider, error_type=ErrorType.VALIDATION_ERROR
        )
    return ProviderError(f"{kind} calling {provider}", provider=provider)


def priced(provider: str, model: str, usage: Usage) -> tuple[Decimal | None, tuple[str, ...]]:
    """The cost of a call, and the warning to carry when its price is unknown (never a silent 0)."""
    cost = pricing.token_cost(provider, model, usage.tokens_in, usage.tokens_out)
    return cost, (() if cost is not None else (pricing.unknown_price_warning(provider, model),))


def tool_arguments(raw: object, *, provider: str, tool: str) -> dict[str, Any]:
    """A tool call's arguments (a mapping, or JSON text) as a dict; a model that wrote broken JSON may do better
    on the next try, hence a retryable error."""
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        arguments = json.loads(raw or "{}")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        arguments = None
    if not isinstance(arguments, dict):
        raise ProviderError(
            f"tool call {tool!r} from {provider} has arguments that are not a JSON object",
            provider=provider,
            error_type=ErrorType.VALIDATION_ERROR,
        )
    return arguments


def elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def json_object(text: str) -> dict[str, Any] | None:
    """The text as a JSON object, or None: validation (and repair) is the chain's job."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
