"""ProviderCall rows are honest about calls that never ended: each is written as "started" before the call, so a
call cut off by a time limit or a dead worker still leaves its row, marked interrupted; and a slot the offline
templates wrote after the configured providers failed says so in the run's warnings."""

import signal
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from aicmo.llm.chain import CallRecord
from aicmo.llm.registry import get_chain
from aicmo.testing.fake_llm_server import Reply
from deliverables.models import Deliverable, ProviderCall, Revision, Run
from deliverables.services import Slot, deliverable_generate, run_create
from deliverables.services.provider_calls import INTERRUPTED_BY_WORKER, provider_call_save
from deliverables.services.recovery import runs_requeue_stuck

pytestmark = pytest.mark.django_db

BRIEF = {"campaign_name": "Spring Roast", "platforms": ["linkedin"], "deliverables": ["linkedin_post"]}


def new_run(user, django_capture_on_commit_callbacks) -> Run:
    with django_capture_on_commit_callbacks(execute=False):
        return run_create(
            module="campaigns",
            brand=user.brands.get(),
            requested_by=user,
            brief=BRIEF,
            slots=[Slot("linkedin_post", platform="linkedin")],
            trace_id="trace-calls",
        )


def calls() -> list[tuple[str, str, str, str]]:
    return list(ProviderCall.objects.order_by("pk").values_list("provider", "outcome", "error_type", "error_message"))


def test_a_call_cut_off_by_the_soft_time_limit_is_recorded_as_interrupted(
    marketer, sdk_providers, django_capture_on_commit_callbacks
):
    # Given a provider that never answers, and Celery's soft time limit firing 2.5 s into the task (as billiard
    # does it: a signal whose handler raises in the worker's main thread)
    sdk_providers.enqueue("openai", Reply(hang=True))
    run = new_run(marketer, django_capture_on_commit_callbacks)
    seen_during_the_call: list = []
    get_chain()  # imports the SDKs now: a first import takes longer than the timer below

    def soft_time_limit(signum, frame):
        seen_during_the_call.extend(calls())
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, soft_time_limit)
    signal.setitimer(signal.ITIMER_REAL, 2.5)
    try:
        deliverable_generate(deliverable_id=str(run.deliverables.get().pk))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert seen_during_the_call == [("openai", "started", "", "")]  # the row existed while the call ran
    assert calls() == [("openai", "interrupted", "", "interrupted (SoftTimeLimitExceeded)")]
    interrupted = ProviderCall.objects.get()
    assert (interrupted.run_id, interrupted.use_case, interrupted.model) == (run.pk, "linkedin_post", "gpt-4.1-mini")
    # Stopped by the soft limit (2.5 s in), before the chain's own deadline: not a bound on speed (the handler
    # and a loaded machine add their time), only that the latency recorded is the call's real one.
    assert 0 < interrupted.latency_ms < settings.AICMO_LLM_TIMEOUT_S * 1000
    slot = run.deliverables.get()
    assert (slot.generation_status, slot.error["type"]) == (Deliverable.Generation.FAILED, "TIMEOUT")
    assert sdk_providers.requests_to("anthropic") == []  # the task was stopped: no fallback call after it


def test_a_redelivered_slot_marks_the_call_its_dead_worker_left_started(
    marketer, sdk_providers, django_capture_on_commit_callbacks
):
    # Given a slot whose worker was killed during its call: the slot RUNNING, the call's row still "started"
    run = new_run(marketer, django_capture_on_commit_callbacks)
    slot = run.deliverables.get()
    Deliverable.objects.filter(pk=slot.pk).update(generation_status=Deliverable.Generation.RUNNING, deliveries=1)
    provider_call_save(
        CallRecord(provider="openai", model="gpt-4.1-mini", use_case="linkedin_post", outcome="started", call_id="a1"),
        run_id=run.pk,
        deliverable_id=slot.pk,
        brand_id=run.brand_id,
    )

    # When the broker hands the task to another worker
    deliverable_generate(deliverable_id=str(slot.pk), redelivered=True)

    assert calls() == [
        ("openai", "interrupted", "", INTERRUPTED_BY_WORKER),
        ("openai", "ok", "", ""),
    ]
    assert Revision.objects.filter(deliverable=slot).count() == 1


def test_the_sweeper_marks_calls_started_before_the_task_time_limit_as_interrupted(
    marketer, django_capture_on_commit_callbacks, settings
):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    for call_id in ("old", "recent"):
        provider_call_save(
            CallRecord(provider="openai", model="gpt-4.1-mini", use_case="studio", outcome="started", call_id=call_id),
            run_id=run.pk,
            deliverable_id=None,
            brand_id=run.brand_id,
        )
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    ProviderCall.objects.filter(call_id="old").update(created_at=long_ago)

    runs_requeue_stuck()

    assert dict(ProviderCall.objects.values_list("call_id", "outcome")) == {"old": "interrupted", "recent": "started"}


def test_the_end_of_a_call_updates_its_started_row(marketer, django_capture_on_commit_callbacks):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    started = CallRecord(provider="openai", model="gpt-4.1-mini", use_case="x", outcome="started", call_id="c1")
    ended = CallRecord(
        provider="openai",
        model="gpt-4.1-mini",
        use_case="x",
        outcome="error",
        latency_ms=1234,
        error_type="TIMEOUT",
        error_message="timed out waiting for openai: no complete answer within 2 s",
        call_id="c1",
    )

    for record in (started, ended):
        provider_call_save(record, run_id=run.pk, deliverable_id=None, brand_id=run.brand_id)

    assert list(ProviderCall.objects.values_list("call_id", "outcome", "latency_ms", "error_type")) == [
        ("c1", "error", 1234, "TIMEOUT")
    ]


# --- falling back to offline ---------------------------------------------------------------------------------------


def test_a_slot_the_offline_templates_wrote_after_a_provider_failed_adds_a_run_warning(
    marketer_api, run_tasks_inline, sdk_providers, settings
):
    settings.AICMO_LLM_FALLBACK_PROVIDERS = ["offline"]
    sdk_providers.enqueue("openai", Reply(status=500))

    with run_tasks_inline():
        response = marketer_api.post("/api/v1/campaigns/generate", BRIEF, format="json")
    envelope = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}").json()

    warning = "Written by the offline templates, not a model: openai: HTTP 500 from openai."
    assert (envelope["status"], envelope["meta"]["provider"]) == ("SUCCESS", "offline")
    assert envelope["meta"]["warnings"] == [f"linkedin_post: {warning}"]
    assert envelope["deliverables"][0]["metadata"]["warnings"] == [warning]
    assert calls() == [("openai", "error", "PROVIDER_ERROR", "HTTP 500 from openai"), ("offline", "ok", "", "")]


def test_offline_as_the_only_provider_adds_no_warning(marketer_api, run_tasks_inline):
    with run_tasks_inline():
        response = marketer_api.post("/api/v1/campaigns/generate", BRIEF, format="json")
    envelope = marketer_api.get(f"/api/v1/runs/{response.data['run_id']}").json()

    assert (envelope["status"], envelope["meta"]["provider"], envelope["meta"]["warnings"]) == (
        "SUCCESS",
        "offline",
        [],
    )
