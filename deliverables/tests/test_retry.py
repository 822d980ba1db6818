"""run_retry_failed: failed slots go back to the queue, the run back to RUNNING, and the run settles again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo.core.errors import Conflict
from campaigns.services import campaign_generate
from deliverables.models import AuditEvent, Deliverable, Run
from deliverables.services.recovery import runs_requeue_stuck
from deliverables.services.retry import run_retry_failed
from deliverables.tests.review_helpers import generate_campaign

pytestmark = pytest.mark.django_db

BRIEF = {"campaign_name": "Q1 Launch", "platforms": ["linkedin"]}


def fail_email(monkeypatch):
    from aicmo.llm.exceptions import ProviderError
    from aicmo.llm.providers import offline

    original = offline.OfflineProvider.complete

    def complete(self, request):
        if request.task == "email_copy":
            raise ProviderError("boom", provider="offline")
        return original(self, request)

    monkeypatch.setattr(offline.OfflineProvider, "complete", complete)
    return lambda: monkeypatch.setattr(offline.OfflineProvider, "complete", original)


@pytest.fixture
def partial_run(marketer, run_tasks_inline, monkeypatch):
    """A PARTIAL run: everything made but the email."""
    from aicmo.llm import cooldown

    restore = fail_email(monkeypatch)
    with run_tasks_inline():
        run = campaign_generate(brand=marketer.brands.get(), user=marketer, brief=BRIEF, trace_id="trace-partial")
    restore()
    cooldown.reset(cooldown.breaker_key("offline", "offline-templates-v1"))
    run.refresh_from_db()
    assert run.status == Run.Status.PARTIAL
    return run


def test_retry_resets_only_the_failed_slots_and_reopens_the_run(
    partial_run, marketer, django_capture_on_commit_callbacks
):
    email = partial_run.deliverables.get(kind="email_copy")
    done_before = list(partial_run.deliverables.exclude(pk=email.pk).values_list("pk", "generation_status", "version"))

    with django_capture_on_commit_callbacks() as callbacks:
        ids = run_retry_failed(run=partial_run, actor=marketer)

    assert ids == [str(email.pk)]
    email.refresh_from_db()
    assert (email.generation_status, email.error, email.deliveries) == (Deliverable.Generation.PENDING, None, 0)
    assert (
        list(partial_run.deliverables.exclude(pk=email.pk).values_list("pk", "generation_status", "version"))
        == done_before
    )
    run = Run.objects.get(pk=partial_run.pk)
    assert (run.status, run.error, run.finished_at) == (Run.Status.RUNNING, None, None)
    assert "email_copy failed: All providers failed: offline: boom" not in run.warnings
    event = AuditEvent.objects.get(run=run, action="retry_failed")
    assert (event.actor, event.from_status, event.to_status, event.deliverable) == (
        marketer,
        Run.Status.PARTIAL,
        Run.Status.RUNNING,
        None,
    )
    assert event.data == {"deliverables": [str(email.pk)], "kinds": ["email_copy"]}
    assert len(callbacks) == 1  # the dispatch waits for the commit


def test_the_retried_slots_are_dispatched_and_the_run_settles_as_success(partial_run, marketer, run_tasks_inline):
    with run_tasks_inline():
        run_retry_failed(run=partial_run, actor=marketer)

    run = Run.objects.get(pk=partial_run.pk)
    assert run.status == Run.Status.SUCCESS
    assert run.error is None and run.finished_at is not None
    assert run.deliverables.filter(generation_status=Deliverable.Generation.DONE).count() == 5
    assert not [w for w in run.warnings if "failed" in w]


def test_a_failed_run_is_retried_whole_and_its_error_cleared(marketer, run_tasks_inline, settings):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["offline"]
    with run_tasks_inline():
        run = campaign_generate(brand=marketer.brands.get(), user=marketer, brief=BRIEF, trace_id="trace-failed")
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED and run.error["type"] == "PROVIDER_ERROR"
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = []

    with run_tasks_inline():
        ids = run_retry_failed(run=run, actor=marketer)

    assert len(ids) == 5
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert run.error is None
    assert run.provider == "offline"


@pytest.mark.parametrize("status", [Run.Status.SUCCESS, Run.Status.RUNNING, Run.Status.PENDING])
def test_retry_is_refused_unless_the_run_ended_with_failures_and_nothing_changes(marketer, run_tasks_inline, status):
    run = generate_campaign(marketer, run_tasks_inline)
    Run.objects.filter(pk=run.pk).update(status=status)
    slots = list(run.deliverables.values_list("pk", "generation_status", "updated_at"))
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict) as refused:
        run_retry_failed(run=run, actor=marketer)

    assert refused.value.message == "Only a finished run with failed deliverables can be retried."
    assert refused.value.details == {"status": status, "failed": 0}
    assert Run.objects.get(pk=run.pk).status == status
    assert list(run.deliverables.values_list("pk", "generation_status", "updated_at")) == slots
    assert AuditEvent.objects.count() == events


def test_a_run_still_in_flight_with_a_failed_slot_is_not_retried(partial_run, marketer):
    Run.objects.filter(pk=partial_run.pk).update(status=Run.Status.RUNNING)

    with pytest.raises(Conflict):
        run_retry_failed(run=partial_run, actor=marketer)

    assert partial_run.deliverables.get(kind="email_copy").generation_status == Deliverable.Generation.FAILED
    assert not AuditEvent.objects.filter(action="retry_failed").exists()


def test_a_retry_the_broker_never_got_is_dispatched_by_the_sweeper_within_seconds(
    partial_run, marketer, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from deliverables import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    assert partial_run.dispatched_at is not None  # dispatched when it was first generated
    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        run_retry_failed(run=partial_run, actor=marketer)
    assert Run.objects.get(pk=partial_run.pk).dispatched_at is None
    sent = []
    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda args, **kwargs: sent.append(args[0]))

    counts = runs_requeue_stuck(now=timezone.now() + timedelta(seconds=11))

    assert counts == {"dispatched": 1, "redispatched": 0, "gave_up": 0, "settled": 0}
    assert sent == [str(partial_run.deliverables.get(kind="email_copy").pk)]
    assert Run.objects.get(pk=partial_run.pk).dispatched_at is not None
