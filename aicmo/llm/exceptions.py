"""Errors of the provider layer, each with the envelope error type it maps to."""

from decimal import Decimal

from .base import Usage


class ErrorType:
    VALIDATION_ERROR = "VALIDATION_ERROR"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    RATE_LIMIT = "RATE_LIMIT"
    TIMEOUT = "TIMEOUT"
    QUEUE_UNAVAILABLE = "QUEUE_UNAVAILABLE"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"  # the brand's monthly budget is spent
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ProviderError(Exception):
    """One provider failed one call. `retryable` errors (timeouts, 429, 5xx, bad output) may succeed later;
    terminal ones (400, 401) will not, but the chain still tries the next provider. `usage` and `cost_usd`
    are those of calls that were answered (and paid for) but failed anyway, e.g. invalid output twice."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        error_type: str = ErrorType.PROVIDER_ERROR,
        retryable: bool = True,
        status_code: int | None = None,
        usage: Usage | None = None,
        cost_usd: Decimal | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.error_type = error_type
        self.retryable = retryable
        self.status_code = status_code
        self.usage = usage
        self.cost_usd = cost_usd

    def __str__(self) -> str:
        return f"{self.provider}: {self.message}"

    @property
    def is_outage(self) -> bool:
        """Whether this failure says the provider (or this model) is unavailable: a timeout, a refused or dropped
        connection, a 429, a 5xx, an error event mid-stream. Only these count towards a cooldown. A bad answer
        (invalid JSON, empty text) is the model's trouble with one piece, and a 400 / 401 is the request's or
        the key's: neither is cured by waiting, and cooling the provider down for them would switch off the
        pieces it answers well (LiteLLM #3646)."""
        if self.error_type in (ErrorType.TIMEOUT, ErrorType.RATE_LIMIT):
            return True
        if self.error_type == ErrorType.VALIDATION_ERROR:
            return False
        if self.status_code is None:  # connection errors, stream error events: no HTTP status to blame
            return True
        return self.status_code >= 500 or self.status_code == 408


class UnsupportedOperation(ProviderError):
    """The provider cannot do this at all (e.g. images on Anthropic): skip it without counting a failure."""

    def __init__(self, message: str, *, provider: str):
        super().__init__(message, provider=provider, retryable=False)


class AllProvidersFailed(Exception):
    """Every provider in the chain failed or was skipped."""

    def __init__(self, errors: list[ProviderError]):
        self.errors = errors
        kinds = {e.error_type for e in errors if not isinstance(e, UnsupportedOperation)}
        self.error_type = kinds.pop() if len(kinds) == 1 else ErrorType.PROVIDER_ERROR
        if self.error_type == ErrorType.VALIDATION_ERROR:  # bad output from every provider is a provider fault
            self.error_type = ErrorType.PROVIDER_ERROR
        detail = "; ".join(str(e) for e in errors) or "no provider is configured"
        super().__init__(f"All providers failed: {detail}")

    @property
    def may_pass(self) -> bool:
        """Whether trying again later may succeed: some provider failed with a retryable error (a timeout, a 429,
        a 5xx, a dropped connection, a cooldown). Not when no provider can do this at all (every error is an
        UnsupportedOperation) or when every failure is terminal (400, 401)."""
        return any(e.retryable and not isinstance(e, UnsupportedOperation) for e in self.errors)


class ImageRetryable(Exception):
    """An image every provider failed to make, in a way that may pass (`AllProvidersFailed.may_pass`). The image
    tasks name it in `autoretry_for`: Celery publishes the task again with an exponential, jittered countdown, so
    the worker slot is free during the backoff and each attempt is visible in Flower / the worker's events. Each
    attempt still goes down the whole provider chain."""

    def __init__(self, failure: AllProvidersFailed):
        self.failure = failure
        super().__init__(str(failure))
