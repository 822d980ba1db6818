"""The provider chain: try each provider in order until one answers well.

- **Deadlines.** Every call has one deadline (`timeout_s`, AICMO_LLM_TIMEOUT_S) from connect to last byte, and
  a stream also an idle limit (`stream_idle_s`, AICMO_LLM_STREAM_IDLE_S) between events (`deadline.py`). Past
  either, the call is a TIMEOUT and the chain falls through to the next provider. A stream falls through only
  while it has sent no text; once text has gone out it raises, and the caller discards the partial text.
- **Breaker.** Only availability failures (`ProviderError.is_outage`: timeouts, connection errors, 429, 5xx)
  count towards a cooldown, one per provider and model (and one per image model). A bad answer (invalid
  JSON after one repair, empty text) falls back for that piece only, is reported as a warning on the answer
  that replaced it, and never cools a provider down. Providers cooling down or named in a drill
  (`AICMO_FORCE_LLM_PROVIDER_FAIL`) are skipped without a call, unless every provider is cooling down: then the
  one whose cooldown ends first is tried (half-open). A success closes its breaker at once; a failed trial
  opens it again.
- **Records.** Every attempt is reported twice under one `call_id`: `started` before the call, then how it
  ended (`ok`, `error`, `skipped`, or `interrupted` when the caller was stopped mid-call: Celery's soft time
  limit, a shutdown, a consumer closing the stream). A worker killed mid-call leaves the `started` record.

Structured answers are validated against their JSON Schema, with one repair attempt on the same provider. This
is the only retry loop: the SDKs are built with `max_retries=0`.
"""

import contextlib
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TypeVar

import jsonschema

from . import cooldown, deadline
from .base import Completion, CompletionRequest, ImageRequest, ImageResult, LLMProvider, Message, StreamEvent, Usage
from .exceptions import AllProvidersFailed, ErrorType, ProviderError, UnsupportedOperation

logger = logging.getLogger(__name__)

T = TypeVar("T")

OFFLINE = "offline"  # the template provider: a fallback to it is always reported


@dataclass(frozen=True)
class CallRecord:
    """What the chain reports about every attempt, for ProviderCall rows and logs."""

    provider: str
    model: str
    use_case: str
    outcome: str  # "started" | "ok" | "error" | "skipped" | "interrupted"
    latency_ms: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: object = None
    error_type: str = ""
    error_message: str = ""
    trace_id: str = ""
    call_id: str = ""  # the same for an attempt's "started" record and the one saying how it ended


Recorder = Callable[[CallRecord], None]


def _no_record(record: CallRecord) -> None:
    return None


class ProviderChain:
    def __init__(
        self,
        providers: Sequence[LLMProvider],
        *,
        forced_failures: Sequence[str] = (),
        recorder: Recorder = _no_record,
        timeout_s: float = 60.0,
        stream_idle_s: float = 20.0,
    ):
        self.providers = list(providers)
        self.forced_failures = set(forced_failures)
        self.recorder = recorder
        self.timeout_s = timeout_s
        self.stream_idle_s = stream_idle_s

    # --- public calls --------------------------------------------------------------------------------

    def complete(self, request: CompletionRequest) -> Completion:
        return self._first_success(
            request.use_case,
            request.trace_id,
            image=False,
            call=lambda provider: self._complete_valid(provider, request),
        )

    def generate_image(self, request: ImageRequest) -> ImageResult:
        return self._first_success(
            "image",
            request.trace_id,
            image=True,
            call=lambda provider: self._within(provider, lambda: provider.generate_image(request)),
        )

    def stream(self, request: CompletionRequest) -> Iterator[StreamEvent]:
        """Stream from the first provider that starts answering. A provider that fails (or times out) before it
        sent any text falls through; one that fails after raises (the caller discards the partial text)."""
        errors: list[ProviderError] = []
        for provider, probing, marked in self._plan(request.use_case, request.trace_id, errors, image=False):
            attempt = _Attempt(
                self, provider, request.use_case, request.trace_id, image=False, probing=probing, marked=marked
            )
            sent = False
            events = deadline.stream_within(
                functools.partial(provider.stream, request),
                timeout_s=self.timeout_s,
                idle_s=self.stream_idle_s,
                provider=provider.name,
            )
            try:
                with contextlib.closing(events):
                    for event in events:
                        if event.completion is not None:
                            completion = event.completion
                            if not sent and not completion.text.strip() and not completion.tool_calls:
                                raise _empty_answer(provider, completion)
                            completion = _with_fallback_warnings(completion, errors)
                            attempt.succeeded(completion)  # before the yield: the consumer may stop there
                            yield replace(event, completion=completion)
                            return
                        if event.text:
                            sent = True
                            yield event
                raise ProviderError(f"the stream from {provider.name} ended before the answer", provider=provider.name)
            except ProviderError as error:
                attempt.failed(error, errors)
                if sent:
                    raise
            except BaseException as error:
                attempt.interrupted(error)
                raise
        raise AllProvidersFailed(errors)

    # --- the loop --------------------------------------------------------------------------------------

    def _plan(
        self, use_case: str, trace_id: str, errors: list[ProviderError], *, image: bool
    ) -> Iterator[tuple[LLMProvider, bool, bool]]:
        """The providers to call, in order, each with whether it is a half-open trial and whether its breaker has
        anything for a success to clear. Skipped ones are reported as they are reached (none after the provider
        that answers)."""
        candidates = [p for p in self.providers if not image or _image_model(p) is not None]
        live = [p for p in candidates if p.name not in self.forced_failures]
        keys = {id(p): _breaker(p, image) for p in candidates}
        cooling, marked = cooldown.breaker_states(keys[id(p)] for p in live) if live else ({}, set())
        probe = None
        if live and all(keys[id(p)] in cooling for p in live):
            probe = min(live, key=lambda p: cooling[keys[id(p)]])  # the cooldown that ends first
            logger.info("every provider cooling down: half-open trial", extra={"provider": probe.name})
        for provider in candidates:
            if provider.name in self.forced_failures:
                error = ProviderError("forced to fail by AICMO_FORCE_LLM_PROVIDER_FAIL", provider=provider.name)
                self._skipped(provider, use_case, trace_id, error, errors, image=image)
            elif keys[id(provider)] in cooling and provider is not probe:
                error = ProviderError("skipped: cooling down after repeated failures", provider=provider.name)
                self._skipped(provider, use_case, trace_id, error, errors, image=image)
            else:
                yield provider, provider is probe, keys[id(provider)] in marked

    def _first_success(self, use_case: str, trace_id: str, *, image: bool, call: Callable[[LLMProvider], T]) -> T:
        errors: list[ProviderError] = []
        for provider, probing, marked in self._plan(use_case, trace_id, errors, image=image):
            attempt = _Attempt(self, provider, use_case, trace_id, image=image, probing=probing, marked=marked)
            try:
                result = call(provider)
            except UnsupportedOperation as error:
                attempt.unsupported(error)
                errors.append(error)
                continue
            except ProviderError as error:
                attempt.failed(error, errors)
                continue
            except BaseException as error:  # the caller was stopped mid-call (soft time limit, shutdown)
                attempt.interrupted(error)
                raise
            if isinstance(result, Completion):
                result = _with_fallback_warnings(result, errors)
            attempt.succeeded(result)
            return result
        raise AllProvidersFailed(errors)

    def _within(self, provider: LLMProvider, call: Callable[[], T]) -> T:
        return deadline.within(call, timeout_s=self.timeout_s, provider=provider.name)

    def _complete_valid(self, provider: LLMProvider, request: CompletionRequest) -> Completion:
        completion = self._within(provider, lambda: provider.complete(request))
        if request.json_schema is None:
            if not completion.text.strip() and not completion.tool_calls:
                raise _empty_answer(provider, completion)
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
            repaired = self._within(provider, lambda: provider.complete(repair))  # a call of its own: its own deadline
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

    def _skipped(
        self,
        provider: LLMProvider,
        use_case: str,
        trace_id: str,
        error: ProviderError,
        errors: list[ProviderError],
        *,
        image: bool,
    ) -> None:
        errors.append(error)
        logger.info(
            "llm provider skipped", extra={"provider": provider.name, "reason": error.message, "trace_id": trace_id}
        )
        self.recorder(
            CallRecord(
                provider=provider.name,
                model=_model(provider, image),
                use_case=use_case,
                outcome="skipped",
                error_type=error.error_type,
                error_message=error.message,
                trace_id=trace_id,
                call_id=uuid.uuid4().hex,
            )
        )


class _Attempt:
    """One call to one provider: reported as started at once, then settled exactly once."""

    def __init__(
        self,
        chain: ProviderChain,
        provider: LLMProvider,
        use_case: str,
        trace_id: str,
        *,
        image: bool,
        probing: bool,
        marked: bool,
    ):
        self.chain, self.provider, self.use_case, self.trace_id = chain, provider, use_case, trace_id
        self.model = _model(provider, image)
        self.breaker = _breaker(provider, image)
        self.probing = probing
        self.marked = marked  # its breaker had failures counted (or was open) when the chain planned the call
        self.call_id = uuid.uuid4().hex
        self.started = time.monotonic()
        self.settled = False
        chain.recorder(self._record("started", latency_ms=0))

    def _record(self, outcome: str, **fields) -> CallRecord:
        fields.setdefault("latency_ms", int((time.monotonic() - self.started) * 1000))
        fields.setdefault("model", self.model)
        return CallRecord(
            provider=self.provider.name,
            use_case=self.use_case,
            outcome=outcome,
            trace_id=self.trace_id,
            call_id=self.call_id,
            **fields,
        )

    def _log(self, message: str, level: int = logging.INFO, **extra) -> None:
        logger.log(
            level,
            message,
            extra={
                "provider": self.provider.name,
                "model": self.model,
                "use_case": self.use_case,
                "latency_ms": int((time.monotonic() - self.started) * 1000),
                "trace_id": self.trace_id,
                **extra,
            },
        )

    def succeeded(self, result: Completion | ImageResult) -> None:
        self.settled = True
        if self.marked:
            cooldown.record_success(self.breaker)
        usage = getattr(result, "usage", None)
        self._log("llm call ok", half_open=self.probing)
        self.chain.recorder(
            self._record(
                "ok",
                model=result.model,
                tokens_in=getattr(usage, "tokens_in", 0),
                tokens_out=getattr(usage, "tokens_out", 0),
                cost_usd=result.cost_usd,
            )
        )

    def failed(self, error: ProviderError, errors: list[ProviderError]) -> None:
        self.settled = True
        errors.append(error)
        if error.is_outage:
            cooldown.record_failure(self.breaker, reopen=self.probing)
        self._log(
            "llm call failed",
            logging.WARNING,
            error_type=error.error_type,
            outage=error.is_outage,
            half_open=self.probing,
        )
        self.chain.recorder(
            self._record(
                "error",
                tokens_in=error.usage.tokens_in if error.usage else 0,
                tokens_out=error.usage.tokens_out if error.usage else 0,
                cost_usd=error.cost_usd,
                error_type=error.error_type,
                error_message=error.message[:500],
            )
        )

    def unsupported(self, error: UnsupportedOperation) -> None:
        self.settled = True
        self.chain.recorder(self._record("skipped", error_type=error.error_type, error_message=error.message[:500]))

    def interrupted(self, error: BaseException) -> None:
        if self.settled:  # e.g. a consumer closing a stream after its final event
            return
        self.settled = True
        self._log("llm call interrupted", logging.WARNING, interruption=type(error).__name__)
        self.chain.recorder(self._record("interrupted", error_message=f"interrupted ({type(error).__name__})"))


def _empty_answer(provider: LLMProvider, completion: Completion) -> ProviderError:
    return ProviderError(
        "empty answer",
        provider=provider.name,
        error_type=ErrorType.VALIDATION_ERROR,
        usage=completion.usage,
        cost_usd=completion.cost_usd,
    )


def _with_fallback_warnings(completion: Completion, errors: list[ProviderError]) -> Completion:
    """Say why this answer is not the first provider's: always when the offline templates wrote it (with the
    reasons), and for every bad answer it replaced (outages only change the provider named on the piece)."""
    tried = [e for e in errors if not isinstance(e, UnsupportedOperation)]
    if completion.provider == OFFLINE and tried:
        notes = ["Written by the offline templates, not a model: " + "; ".join(str(e) for e in tried) + "."]
    else:
        notes = [
            f"{e.provider}'s answer was unusable ({e.message}), so {completion.provider} wrote this one."
            for e in tried
            if e.error_type == ErrorType.VALIDATION_ERROR
        ]
    return replace(completion, warnings=(*completion.warnings, *notes)) if notes else completion


def _spent(*completions: Completion) -> tuple[Usage, Decimal | None]:
    """Tokens and cost of several answered calls together; the cost is unknown if any one's is."""
    usage = Usage(sum(c.usage.tokens_in for c in completions), sum(c.usage.tokens_out for c in completions))
    costs = [c.cost_usd for c in completions]
    return usage, None if any(c is None for c in costs) else sum(costs, Decimal("0"))


def _image_model(provider: LLMProvider) -> str | None:
    return getattr(provider, "image_model", provider.model)  # a provider without the attribute is asked anyway


def _model(provider: LLMProvider, image: bool) -> str:
    return (_image_model(provider) or provider.model) if image else provider.model


def _breaker(provider: LLMProvider, image: bool) -> str:
    return cooldown.breaker_key(provider.name, _model(provider, image), image=image)


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
