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
