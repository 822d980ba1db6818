"""Whole-call deadlines: one limit from connect to last byte for every provider call, and an idle limit for streams.

httpx's timeouts are per operation (connect, each read): a server that sends a few bytes every few seconds
never trips them. So the chain runs each provider call in a helper thread and waits for it at most until
the deadline (`within`); a stream is handed over through a queue, so both the deadline and the silence
between events are bounded (`stream_within`). The caller is never held past the deadline, whatever the
provider does.

The helper thread sees its `Budget` through a context variable; the SDK clients' transport
(`providers.sdk.DeadlineTransport`) caps every HTTP operation at the time left and stops reading once the
budget is over or cancelled, so an abandoned call ends shortly after its deadline instead of lingering.
"""

import contextvars
import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from .base import StreamEvent
from .exceptions import ErrorType, ProviderError

T = TypeVar("T")


@dataclass
class Budget:
    """The time one provider call may take (monotonic clock), and whether its caller has given up on it."""

    deadline: float
    cancelled: threading.Event = field(default_factory=threading.Event)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def over(self) -> bool:
        return self.cancelled.is_set() or time.monotonic() >= self.deadline


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("aicmo_llm_budget", default=None)


def current_budget() -> Budget | None:
    """The budget of the provider call running in this thread, if any (read by the SDK transport)."""
    return _budget.get()


def deadline_error(provider: str, timeout_s: float) -> ProviderError:
    return ProviderError(
        f"timed out waiting for {provider}: no complete answer within {timeout_s:g} s",
        provider=provider,
        error_type=ErrorType.TIMEOUT,
    )


def idle_error(provider: str, idle_s: float) -> ProviderError:
    return ProviderError(
        f"timed out waiting for {provider}: the stream was silent for {idle_s:g} s",
        provider=provider,
        error_type=ErrorType.TIMEOUT,
    )


# Starting a thread costs about as much as a fast provider call, so helper threads are kept for the next call
# and end after a minute idle. Each runs one call at a time; a call abandoned at its deadline keeps its helper
# only until the transport notices the budget is over (see the module docstring).
HELPER_IDLE_S = 60.0
IDLE_NAME = "aicmo-llm-idle"
_helpers_lock = threading.Lock()
_idle_helpers: list["_Helper"] = []


class _Helper(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name=IDLE_NAME, daemon=True)
        self.calls: queue.SimpleQueue[tuple[str, Callable[[], None]]] = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            try:
                provider, call = self.calls.get(timeout=HELPER_IDLE_S)
            except queue.Empty:
                with _helpers_lock:
                    if self in _idle_helpers:  # else a caller has just taken it and is handing it a call
                        _idle_helpers.remove(self)
                        return
                continue
            self.name = f"aicmo-llm-{provider}"  # while it runs, a thread dump (and a test) sees whose call it is
            call()
            self.name = IDLE_NAME
            with _helpers_lock:
                _idle_helpers.append(self)


def _forget_helpers() -> None:  # a forked child (a prefork pool process) has none of its parent's threads
    global _helpers_lock
    _helpers_lock = threading.Lock()
    _idle_helpers.clear()


os.register_at_fork(after_in_child=_forget_helpers)


def _start(target: Callable[[], None], budget: Budget, provider: str) -> None:
    # A copy of the caller's context (trace ids for logs) with the budget set, for the helper thread only.
    context = contextvars.copy_context()
    context.run(_budget.set, budget)
    call = functools.partial(context.run, target)
    with _helpers_lock:
        helper = _idle_helpers.pop() if _idle_helpers else None
    if helper is None:
        helper = _Helper()
        helper.calls.put((provider, call))
        helper.start()
    else:
        helper.calls.put((provider, call))


def within(call: Callable[[], T], *, timeout_s: float, provider: str) -> T:
    """`call()`'s result, or a TIMEOUT ProviderError once `timeout_s` has passed. An exception of the caller's
    own while it waits (Celery's soft time limit) cancels the call and propagates."""
    budget = Budget(time.monotonic() + timeout_s)
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # handed to the caller, who raises it
            outcome["error"] = error
        finally:
            done.set()

    _start(run, budget, provider)
    try:
        finished = done.wait(timeout_s)
    finally:
        if not done.is_set():
            budget.cancelled.set()
    if not finished:
        raise deadline_error(provider, timeout_s)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


_EVENT, _END, _ERROR = "event", "end", "error"


def stream_within(
    open_stream: Callable[[], Iterator[StreamEvent]], *, timeout_s: float, idle_s: float, provider: str
) -> Iterator[StreamEvent]:
    """The events of `open_stream()`, read in a helper thread. Raises a TIMEOUT ProviderError when the whole
    stream has not ended within `timeout_s`, or when the provider sent no event for `idle_s` (before its
    first event too). Providers send empty `StreamEvent()`s as signs of life for chunks without text; they
    count against the idle limit but are passed on like any event (the chain drops them)."""
    budget = Budget(time.monotonic() + timeout_s)
    events: queue.SimpleQueue[tuple[str, object, float]] = queue.SimpleQueue()

    def produce() -> None:
        stream = None
        try:
            stream = open_stream()
            for event in stream:
                events.put((_EVENT, event, time.monotonic()))
                if budget.cancelled.is_set():
                    return
            events.put((_END, None, time.monotonic()))
        except BaseException as error:
            events.put((_ERROR, error, time.monotonic()))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # a provider's generator closes its SDK stream, and with it the connection

    _start(produce, budget, provider)
    last = time.monotonic()
    try:
        while True:
            wait = min(budget.deadline, last + idle_s) - time.monotonic()
            try:
                kind, value, at = events.get(timeout=wait) if wait > 0 else events.get_nowait()
            except queue.Empty:
                if time.monotonic() >= budget.deadline:
                    raise deadline_error(provider, timeout_s) from None
                raise idle_error(provider, idle_s) from None
            # Judged by when the provider sent it, not when a slow consumer read it.
            if at > budget.deadline:
                raise deadline_error(provider, timeout_s)
            if at - last > idle_s:
                raise idle_error(provider, idle_s)
            if kind == _END:
                return
            if kind == _ERROR:
                raise value  # type: ignore[misc]
            last = at
            yield value  # type: ignore[misc]
    finally:
        budget.cancelled.set()  # the consumer is done (finished, failed, timed out or stopped early)
