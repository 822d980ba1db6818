"""The provider chain: try each provider in order until one answers well.

Retryable and terminal failures both fall through to the next provider (terminal ones are still
reported); providers cooling down or named in a fault drill are skipped without a call. Structured
answers are validated against their JSON Schema, with one repair attempt on the same provider. This is
the only retry loop: the SDKs are built with `max_retries=0`.
"""

import functools
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import jsonschema

from . import cooldown
from .base import Completion, CompletionRequest, ImageRequest, ImageResult, LLMProvider, Message, StreamEvent, Usage
from .exceptions import AllProvidersFailed, ErrorType, ProviderError, UnsupportedOperation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRecord:
    """What the chain reports about every attempt, for ProviderCall rows and logs."""

    provider: str
    model: str
    use_case: str
    outcome: str  # "ok" | "error" | "skipped"
    latency_ms: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: object = None
    error_type: str = ""
    error_message: str = ""
    trace_id: str = ""


Recorder = Callable[[CallRecord], None]


def _no_record(record: CallRecord) -> None:
    return None


class ProviderChain:
    def __init__(
        self, providers: Sequence[LLMProvider], *, forced_failures: Sequence[str] = (), recorder: Recorder = _no_record
    ):
        self.providers = list(providers)
        self.forced_failures = set(forced_failures)
        self.recorder = recorder

    # --- public calls --------------------------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> Completion:
        return self._first_success(
            request.use_case, request.trace_id, lambda provider: self._complete_valid(provider, request)
        )

    def generate_image(self, request: ImageRequest) -> ImageResult:
        return self._first_success("image", request.trace_id, lambda provider: provider.generate_image(request))

    def stream(self, request: CompletionRequest) -> Iterator[StreamEvent]:
        """Stream from the first provider that starts answering. A provider that fails before its first
        event falls through; one that fails mid-stream raises (the caller discards the partial text)."""
        errors: list[ProviderError] = []
        for provider in self._available(request.use_case, request.trace_id, errors):
            started = time.monotonic()
            events = provider.stream(request)
            try:
                first = next(events)
            except StopIteration:
                first = None
            except ProviderError as error:
                self._failed(provider, request.use_case, request.trace_id, error, started, errors)
                continue
            if first is not None:
                yield first
                if first.completion is not None:
                    self._succeeded(provider, request.use_case, request.trace_id, first.completion, started)
                    return
            try:
                for event in events:
                    yield event
                    if event.completion is not None:
                        self._succeeded(provider, request.use_case, request.trace_id, event.completion, started)
            except ProviderError as error:  # mid-stream: no fallback, but the failure is recorded and counted
                self._failed(provider, request.use_case, request.trace_id, error, started, errors)
                raise
            return
        raise AllProvidersFailed(errors)

    # --- the loop --------------------------------------------------------------------------------------

    def _available(self, use_case: str, trace_id: str, errors: list[ProviderError]) -> Iterator[LLMProvider]:
        for provider in self.providers:
            if provider.name in self.forced_failures:
                error = ProviderError("forced to fail by AICMO_FORCE_LLM_PROVIDER_FAIL", provider=provider.name)
                self._skipped(provider, use_case, trace_id, error, errors)
            elif cooldown.is_cooling_down(_breaker(provider, use_case)):
                error = ProviderError("skipped: cooling down after repeated failures", provider=provider.name)
                self._skipped(provider, use_case, trace_id, error, errors)
            else:
                yield provider

    def _first_success(self, use_case: str, trace_id: str, call: Callable[[LLMProvider], object]):
        errors: list[ProviderError] = []
        for provider in self._available(use_case, trace_id, errors):
            started = time.monotonic()
            try:
                result = call(provider)
            except UnsupportedOperation as error:
                errors.append(error)
                continue
            except ProviderError as error:
                self._failed(provider, use_case, trace_id, error, started, errors)
                continue
            self._succeeded(provider, use_case, trace_id, result, started)
            return result
        raise AllProvidersFailed(errors)

    def _complete_valid(self, provider: LLMProvider, request: CompletionRequest) -> Completion:
        completion = provider.complete(request)
        if request.json_schema is None:
            if not completion.text.strip() and not completion.tool_calls:
                raise ProviderError(
                    "empty answer",
                    provider=provider.name,
                    error_type=ErrorType.VALIDATION_ERROR,
                    usage=completion.usage,
                    cost_usd=completion.cost_usd,
                )
            return completion
        schema = request.validation_schema or request.json_schema
        data, problem = _parse_valid(completion, schema)
        if problem is None:
            return replace(completion, data=data)
        # One repair attempt: show the model its answer and what is wrong with it.
        logger.info("repairing structured answer", extra={"provider": provider.name, "problem": problem})
        repair = replace(
            request,
            messages=(
                *request.messages,
                Message("assistant", completion.text),
                Message(
                    "user", f"That answer is invalid: {problem}. Reply again with only JSON that matches the schema."
                ),
            ),
        )
        try:
            repaired = provider.complete(repair)
        except ProviderError as error:  # the first answer was still paid for
            if error.usage is None:
                error.usage, error.cost_usd = completion.usage, completion.cost_usd
            raise
        usage, cost = _spent(completion, repaired)  # both attempts are paid for, whatever the outcome
        data, problem = _parse_valid(repaired, schema)
        if problem is not None:
            raise ProviderError(
                f"answer does not match the schema after one repair: {problem}",
                provider=provider.name,
                error_type=ErrorType.VALIDATION_ERROR,
                usage=usage,
                cost_usd=cost,
            )
        return replace(
            repaired, data=data, usage=usage, cost_usd=cost, latency_ms=completion.latency_ms + repaired.latency_ms
        )

    # --- bookkeeping ---------------------------------------------------------------------------------

    def _succeeded(self, provider: LLMProvider, use_case: str, trace_id: str, result, started: float) -> None:
        cooldown.record_success(_breaker(provider, use_case))
        latency_ms = int((time.monotonic() - started) * 1000)
        usage = getattr(result, "usage", None)
        record = CallRecord(
            provider=provider.name,
            model=result.model,
            use_case=use_case,
            outcome="ok",
            latency_ms=latency_ms,
            tokens_in=getattr(usage, "tokens_in", 0),
            tokens_out=getattr(usage, "tokens_out", 0),
            cost_usd=result.cost_usd,
            trace_id=trace_id,
        )
        logger.info(
            "llm call ok",
            extra={
                "provider": provider.name,
                "model": result.model,
                "use_case": use_case,
                "latency_ms": latency_ms,
                "trace_id": trace_id,
            },
        )
        self.recorder(record)

    def _failed(
        self,
        provider: LLMProvider,
        use_case: str,
        trace_id: str,
        error: ProviderError,
        started: float,
        errors: list[ProviderError],
    ) -> None:
        errors.append(error)
        cooldown.record_failure(_breaker(provider, use_case))
        latency_ms = int((time.monotonic() - started) * 1000)
        logger.warning(
            "llm call failed",
            extra={
                "provider": provider.name,
                "model": provider.model,
                "use_case": use_case,
                "latency_ms": latency_ms,
                "error_type": error.error_type,
                "trace_id": trace_id,
            },
        )
        self.recorder(
            CallRecord(
                provider=provider.name,
                model=provider.model,
                use_case=use_case,
                outcome="error",
                latency_ms=latency_ms,
                tokens_in=error.usage.tokens_in if error.usage else 0,
                tokens_out=error.usage.tokens_out if error.usage else 0,
                cost_usd=error.cost_usd,
                error_type=error.error_type,
                error_message=error.message[:500],
                trace_id=trace_id,
            )
        )

    def _skipped(
        self, provider: LLMProvider, use_case: str, trace_id: str, error: ProviderError, errors: list[ProviderError]
    ) -> None:
        errors.append(error)
        logger.info(
            "llm provider skipped", extra={"provider": provider.name, "reason": error.message, "trace_id": trace_id}
        )
        self.recorder(
            CallRecord(
                provider=provider.name,
                model=provider.model,
                use_case=use_case,
                outcome="skipped",
                error_type=error.error_type,
                error_message=error.message,
                trace_id=trace_id,
            )
        )


def _spent(*completions: Completion) -> tuple[Usage, Decimal | None]:
    """Tokens and cost of several answered calls together; the cost is unknown if any one's is."""
    usage = Usage(sum(c.usage.tokens_in for c in completions), sum(c.usage.tokens_out for c in completions))
    costs = [c.cost_usd for c in completions]
    return usage, None if any(c is None for c in costs) else sum(costs, Decimal("0"))


def _breaker(provider: LLMProvider, use_case: str) -> str:
    """Images have their own circuit breaker: a failing image model must not switch off a provider's text."""
    return f"{provider.name}:image" if use_case == "image" else provider.name


def _parse_valid(completion: Completion, schema) -> tuple[dict | None, str | None]:
    """The completion's JSON and None when it is valid against the schema, else None and what is wrong."""
    data = completion.data
    if data is None:
        try:
            data = json.loads(_strip_fences(completion.text))
        except ValueError as error:
            return None, f"not JSON ({error})"
    validator = _validator(json.dumps(schema, sort_keys=True, default=dict))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the answer"
        return None, f"{where}: {error.message[:200]}"
    return data, None


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str):
    """What `jsonschema.validate` builds on every call (checking the schema itself first), built once per
    schema: it cost about 1 ms a call, a third of the chain's overhead (docs/benchmarks.md)."""
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _strip_fences(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text
