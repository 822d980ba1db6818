"""What a healthy call costs the chain besides the provider: no new thread and no cache write per call (the
chain-overhead benchmark's two largest items before they were removed)."""

import threading

from aicmo.llm import cooldown, deadline
from aicmo.testing.fake_llm_server import FakeLLMServer, Reply

from .factories import OPENAI_MODEL, text_request
from .test_chain import Records, make_chain

OPENAI_BREAKER = cooldown.breaker_key("openai", OPENAI_MODEL)


def test_consecutive_calls_reuse_one_helper_thread() -> None:
    threads = [deadline.within(threading.get_ident, timeout_s=5, provider="p") for _ in range(5)]

    assert len(set(threads)) == 1
    assert threads[0] != threading.get_ident()  # still run apart from the caller, so the deadline holds


def test_calls_at_the_same_time_each_get_their_own_helper() -> None:
    started, release = threading.Barrier(3), threading.Event()
    seen: list[int] = []

    def call() -> None:
        seen.append(threading.get_ident())
        started.wait(timeout=5)
        release.wait(timeout=5)

    callers = [
        threading.Thread(target=deadline.within, args=(call,), kwargs={"timeout_s": 5, "provider": "p"})
        for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    started.wait(timeout=5)  # both calls are running at once
    release.set()
    for caller in callers:
        caller.join(timeout=5)

    assert len(set(seen)) == 2


def test_an_idle_helper_ends_after_its_idle_time(monkeypatch) -> None:
    monkeypatch.setattr(deadline, "HELPER_IDLE_S", 0.05)
    deadline._idle_helpers.clear()  # helpers started with the longer idle time are left to it
    helper = deadline.within(threading.current_thread, timeout_s=5, provider="p")

    helper.join(timeout=2)

    assert not helper.is_alive()
    assert deadline.within(threading.current_thread, timeout_s=5, provider="p") is not helper  # a new one starts


def test_a_success_on_a_clean_breaker_writes_nothing_to_the_cache(fake: FakeLLMServer, monkeypatch) -> None:
    cleared: list[str] = []
    monkeypatch.setattr(cooldown, "record_success", cleared.append)
    chain = make_chain(fake, Records())

    assert chain.complete(text_request()).provider == "openai"
    assert cleared == []


def test_a_success_after_a_failure_clears_the_count(fake: FakeLLMServer, settings) -> None:
    settings.AICMO_COOLDOWN_FAILURES = 2
    records = Records()
    fake.enqueue("openai", Reply(status=500))
    chain = make_chain(fake, records)
    chain.complete(text_request())  # openai fails once (counted), anthropic answers
    fake.enqueue("openai", Reply(text="Back."))

    assert chain.complete(text_request()).provider == "openai"  # its success clears the count…
    fake.enqueue("openai", Reply(status=500))
    chain.complete(text_request())

    # …so the next failure is the first in a row again, and no cooldown opens
    assert cooldown.open_until([OPENAI_BREAKER]) == {}
    assert [(r.provider, r.outcome) for r in records][-2:] == [("openai", "error"), ("anthropic", "ok")]
