"""The sweeper and the slot claim, with tasks run in-process: runs the broker never got, runs a dead worker left
RUNNING, slots that keep stopping, and copies of a task that must not do the work twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from deliverables.models import Deliverable, ProviderCall, Revision, Run
from deliverables.services import Slot, deliverable_generate, run_create
from deliverables.services.recovery import runs_requeue_stuck

pytestmark = pytest.mark.django_db

BRIEF = {"campaign_name": "Q1 Launch", "objectives": ["Awareness"], "platforms": ["linkedin"]}
QUEUE_WARNING = "The queue was unavailable; the run will start as soon as it is back."


@pytest.fixture
def sent(monkeypatch):
    """Tasks handed to the broker (none run): the deliverable ids, in order."""
    from deliverables import tasks

    ids: list[str] = []
    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda args, **kwargs: ids.append(args[0]))
    return ids


@pytest.fixture
def broker_down(monkeypatch):
    from kombu.exceptions import OperationalError

    from deliverables import tasks

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", refuse)


def new_run(marketer, django_capture_on_commit_callbacks, kinds=("campaign_brief", "email_copy")) -> Run:
    """A saved run whose dispatch never happened (as when the process died right after the commit)."""
    with django_capture_on_commit_callbacks(execute=False):
        run = run_create(
            module="campaigns",
            brand=marketer.brands.get(),
            requested_by=marketer,
            brief=BRIEF,
            slots=[Slot(kind) for kind in kinds],
            trace_id="trace-sweep",
        )
    return run


def age(run: Run, seconds: float) -> None:
    """Move the run's clock back: created, dispatched and last progress `seconds` ago."""
    then = timezone.now() - timedelta(seconds=seconds)
    Run.objects.filter(pk=run.pk).update(created_at=then)
    Run.objects.filter(pk=run.pk, dispatched_at__isnull=False).update(dispatched_at=then)
    run.deliverables.update(updated_at=then)


def test_a_run_never_dispatched_is_dispatched_by_the_sweeper(marketer, django_capture_on_commit_callbacks, sent):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    age(run, 11)

    counts = runs_requeue_stuck()

    assert counts == {"dispatched": 1, "redispatched": 0, "gave_up": 0, "settled": 0}
    assert sent == [str(d.pk) for d in run.deliverables.order_by("position")]
    run.refresh_from_db()
    assert run.dispatched_at is not None and run.status == Run.Status.PENDING


def test_a_run_just_created_is_left_to_its_own_dispatch(marketer, django_capture_on_commit_callbacks, sent):
    new_run(marketer, django_capture_on_commit_callbacks)

    assert runs_requeue_stuck() == {"dispatched": 0, "redispatched": 0, "gave_up": 0, "settled": 0}
    assert sent == []


def test_with_the_broker_still_down_the_run_stays_pending_with_one_warning(
    marketer, django_capture_on_commit_callbacks, broker_down
):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    age(run, 11)

    first, second = runs_requeue_stuck(), runs_requeue_stuck()

    assert first == second == {"dispatched": 0, "redispatched": 0, "gave_up": 0, "settled": 0}
    run.refresh_from_db()
    assert (run.status, run.dispatched_at, run.warnings) == (Run.Status.PENDING, None, [QUEUE_WARNING])


def test_the_queue_warning_goes_once_the_sweeper_has_queued_the_run(
    marketer, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from deliverables import tasks

    sent: list[str] = []
    broker = {"up": False}

    def publish(args, **kwargs):
        if not broker["up"]:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        sent.append(args[0])

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", publish)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    age(run, 11)
    runs_requeue_stuck()
    run.refresh_from_db()
    assert run.warnings == [QUEUE_WARNING]

    broker["up"] = True
    counts = runs_requeue_stuck()

    run.refresh_from_db()
    assert counts == {"dispatched": 1, "redispatched": 0, "gave_up": 0, "settled": 0}
    assert len(sent) == 2
    assert run.dispatched_at is not None
    assert run.warnings == []  # it described a state that is over


def test_a_stuck_running_slot_is_redispatched_and_a_fresh_copy_takes_it_over(
    marketer, django_capture_on_commit_callbacks, sent, settings
):
    run = new_run(marketer, django_capture_on_commit_callbacks, kinds=("email_copy",))
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, dispatched_at=timezone.now())
    run.deliverables.update(generation_status=Deliverable.Generation.RUNNING, deliveries=1)  # a worker died on it
    age(run, settings.AICMO_RUN_STUCK_AFTER_S + 1)

    counts = runs_requeue_stuck()

    slot = run.deliverables.get()
    assert counts == {"dispatched": 0, "redispatched": 1, "gave_up": 0, "settled": 0}
    assert sent == [str(slot.pk)]
    deliverable_generate(deliverable_id=sent[0], redelivered=False)  # the new message, as a worker runs it
    run.refresh_from_db()
    slot.refresh_from_db()
    assert (run.status, slot.generation_status, slot.version, slot.deliveries) == ("SUCCESS", "done", 1, 2)
    assert Revision.objects.filter(deliverable=slot).count() == 1


def test_a_copy_of_a_task_leaves_a_slot_another_worker_is_on_alone(marketer, django_capture_on_commit_callbacks):
    run = new_run(marketer, django_capture_on_commit_callbacks, kinds=("email_copy",))
    slot = run.deliverables.get()
    Deliverable.objects.filter(pk=slot.pk).update(generation_status="running", deliveries=1)  # claimed just now

    deliverable_generate(deliverable_id=str(slot.pk), redelivered=False)

    slot.refresh_from_db()
    assert (slot.generation_status, slot.deliveries, slot.version) == ("running", 1, 0)
    assert ProviderCall.objects.count() == 0  # no second LLM call
    assert Run.objects.get(pk=run.pk).status == Run.Status.PENDING


def test_a_redelivered_task_takes_over_the_slot_of_a_worker_that_died(marketer, django_capture_on_commit_callbacks):
    run = new_run(marketer, django_capture_on_commit_callbacks, kinds=("email_copy",))
    slot = run.deliverables.get()
    Deliverable.objects.filter(pk=slot.pk).update(generation_status="running", deliveries=1)

    deliverable_generate(deliverable_id=str(slot.pk), redelivered=True)

    slot.refresh_from_db()
    assert (slot.generation_status, slot.deliveries, slot.version) == ("done", 2, 1)
    assert Run.objects.get(pk=run.pk).status == Run.Status.SUCCESS


def test_a_slot_that_used_up_its_deliveries_is_failed_by_the_sweeper_and_the_run_is_partial(
    marketer, django_capture_on_commit_callbacks, run_tasks_inline, settings, sent
):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    brief, email = run.deliverables.order_by("position")
    deliverable_generate(deliverable_id=str(brief.pk), redelivered=False)  # done
    Deliverable.objects.filter(pk=email.pk).update(
        generation_status="running", deliveries=settings.AICMO_MAX_TASK_DELIVERIES
    )
    Run.objects.filter(pk=run.pk).update(dispatched_at=timezone.now())
    age(run, settings.AICMO_RUN_STUCK_AFTER_S + 1)

    counts = runs_requeue_stuck()

    assert counts == {"dispatched": 0, "redispatched": 0, "gave_up": 1, "settled": 1}
    assert sent == []  # nothing re-sent: it would only stop again
    run.refresh_from_db()
    email.refresh_from_db()
    message = "Gave up after 3 attempts: no worker finished this deliverable within 600 seconds."
    assert email.error == {"type": "INTERNAL_ERROR", "message": message}
    assert run.status == Run.Status.PARTIAL
    assert run.warnings == [f"email_copy failed: {message}"]


def test_a_run_whose_slots_all_gave_up_fails_with_a_clear_error(
    marketer, django_capture_on_commit_callbacks, settings, sent
):
    run = new_run(marketer, django_capture_on_commit_callbacks, kinds=("email_copy",))
    run.deliverables.update(generation_status="running", deliveries=settings.AICMO_MAX_TASK_DELIVERIES)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, dispatched_at=timezone.now())
    age(run, settings.AICMO_RUN_STUCK_AFTER_S + 1)

    runs_requeue_stuck()

    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error == {
        "type": "INTERNAL_ERROR",
        "trace_id": "trace-sweep",
        "message": "Gave up after 3 attempts: no worker finished this deliverable within 600 seconds.",
    }
    assert runs_requeue_stuck() == {"dispatched": 0, "redispatched": 0, "gave_up": 0, "settled": 0}  # settled once


def test_a_run_still_making_progress_is_left_alone(marketer, django_capture_on_commit_callbacks, settings, sent):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, dispatched_at=timezone.now() - timedelta(hours=1))
    run.deliverables.filter(position=0).update(generation_status="running", deliveries=1)  # claimed just now

    assert runs_requeue_stuck() == {"dispatched": 0, "redispatched": 0, "gave_up": 0, "settled": 0}
    assert sent == []


def test_a_soft_time_limit_fails_the_slot_with_a_timeout(marketer, django_capture_on_commit_callbacks, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from aicmo.llm.providers import offline

    def too_slow(self, request):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(offline.OfflineProvider, "complete", too_slow)
    run = new_run(marketer, django_capture_on_commit_callbacks, kinds=("email_copy",))

    deliverable_generate(deliverable_id=str(run.deliverables.get().pk), redelivered=False)

    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error["type"] == "TIMEOUT"
    assert run.error["message"].startswith("Timed out: generating took longer than ")


@pytest.mark.parametrize(
    "path, body",
    [
        (
            "/api/v1/campaigns/generate",
            {"campaign_name": "X", "platforms": ["email"], "deliverables": ["social_posts"]},
        ),
        ("/api/v1/creatives/generate", {"product": "Cold brew", "deliverables": ["social_posts"]}),
    ],
)
def test_a_brief_with_nothing_to_generate_is_refused_and_nothing_is_saved(marketer_api, path, body):
    response = marketer_api.post(path, body, format="json")

    assert response.status_code == 400
    assert response.data["status"] == "FAILED"
    assert response.data["error"]["type"] == "VALIDATION_ERROR"
    assert response.data["error"]["message"] == (
        "Nothing to generate: none of the requested deliverables applies to this brief."
    )
    assert list(response.data["error"]["details"]) == ["deliverables"]
    assert (Run.objects.count(), Campaign.objects.count()) == (0, 0)
