"""What the OpenAI and Anthropic providers share: a lazily built SDK client on a transport that keeps the chain's
whole-call deadline, error mapping (both SDKs raise the same family of exceptions), costing, and reading tool
arguments and JSON answers."""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import ModuleType
from typing import Any, Generic, TypeVar

import httpx2

from .. import deadline, pricing
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


# The SDKs' own connection limits (their default client's; a client with our transport would get httpx's).
_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
# The caller's watchdog gives up exactly at the deadline; the transport ends the abandoned exchange just after.
_GRACE_S = 0.25


class DeadlineTransport(httpx2.BaseTransport):
    """Keeps the budget of the call running in this thread (`deadline.current_budget()`, set by the chain's
    watchdog): every connect, write and read may wait at most the time left, and the body stops with a timeout
    at the first chunk after the deadline, or after the caller gave up. Without a budget (a direct call) it is
    the plain transport."""

    def __init__(self, inner: httpx2.BaseTransport | None = None):
        self._inner = inner or httpx2.HTTPTransport(limits=_LIMITS)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        budget = deadline.current_budget()
        if budget is None:
            return self._inner.handle_request(request)
        left = budget.remaining() + _GRACE_S
        if budget.cancelled.is_set() or left <= 0:
            raise httpx2.ConnectTimeout("the call's deadline has passed", request=request)
        timeouts = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            name: left if timeouts.get(name) is None else min(timeouts[name], left)
            for name in ("connect", "read", "write", "pool")
        }
        response = self._inner.handle_request(request)
        response.stream = _DeadlineStream(response.stream, budget, request)  # type: ignore[arg-type]
        return response

    def close(self) -> None:
        self._inner.close()


class _DeadlineStream(httpx2.SyncByteStream):
    def __init__(self, inner, budget: deadline.Budget, request: httpx2.Request):
        self._inner, self._budget, self._request = inner, budget, request

    def __iter__(self):
        for chunk in self._inner:
            if self._budget.cancelled.is_set() or self._budget.remaining() + _GRACE_S <= 0:
                raise httpx2.ReadTimeout("the call's deadline has passed", request=self._request)
            yield chunk

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def http_client() -> httpx2.Client:
    """The HTTP client an SDK is built with. `follow_redirects` as the SDKs' own default client; timeouts come
    from the SDK with each request."""
    return httpx2.Client(transport=DeadlineTransport(), follow_redirects=True)


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
