"""The generation services themselves (tasks run in-process, offline provider): who may start a run, how a
slot ends when its save goes wrong, how its image task (retried by Celery) ends it, and which provider a run
names."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from aicmo.llm.exceptions import ProviderError, UnsupportedOperation
from aicmo.llm.providers import offline
from brands.budget import BudgetExceeded
from brands.tests.factories import UserFactory
from deliverables.models import Asset, Deliverable, ProviderCall, Revision, Run
from deliverables.selectors import run_progress
from deliverables.services import Slot, deliverable_generate, run_create, run_totals, slot_image

pytestmark = pytest.mark.django_db

BRIEF = {"product": "Cold brew", "platforms": ["instagram"]}


def new_run(user, django_capture_on_commit_callbacks) -> Run:
    """A saved creatives run of one ad with an image, not dispatched (the test runs its slot itself)."""
    with django_capture_on_commit_callbacks(execute=False):
        return run_create(
            module="creatives",
            brand=user.brands.get(),
            requested_by=user,
            brief=BRIEF,
            slots=[Slot("ad_copy", with_image=True)],
            trace_id="trace-generation",
        )


def generate_only_slot(run: Run) -> Deliverable:
    slot = run.deliverables.get()
    deliverable_generate(deliverable_id=str(slot.pk), redelivered=False)
    run.refresh_from_db()
    slot.refresh_from_db()
    return slot


# --- who may generate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["marketer", "manager"])
def test_both_roles_may_generate(brand, django_capture_on_commit_callbacks, role):
    user = UserFactory(username=role.lower(), role=role, brands=[brand])

    run = new_run(user, django_capture_on_commit_callbacks)

    assert (run.status, run.requested_by) == (Run.Status.PENDING, user)


# --- how a slot ends ---------------------------------------------------------------------------------------------


def test_an_error_while_saving_fails_the_slot_with_an_internal_error_and_saves_nothing(
    marketer, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**fields):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Revision.objects, "create", broken)
    run = new_run(marketer, django_capture_on_commit_callbacks)

    slot = generate_only_slot(run)

    assert (slot.generation_status, slot.version) == (Deliverable.Generation.FAILED, 0)  # the save rolled back
    assert slot.error == {"type": "INTERNAL_ERROR", "message": "Internal error (RuntimeError)."}
    assert (run.status, run.error["type"]) == (Run.Status.FAILED, "INTERNAL_ERROR")
    assert (Revision.objects.count(), Asset.objects.count()) == (0, 0)


# --- a slot's image: its own task, retried by Celery ------------------------------------------------------------


@pytest.fixture
def image_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """The slot's image task, run as Celery's eager mode runs it (its retries included: `run_eagerly`); records
    each retry Celery schedules (its countdown) through the `task_retry` signal."""
    from celery.signals import task_retry

    from aicmo.testing.eager import run_eagerly
    from deliverables import tasks

    queued, retries = [], []
    monkeypatch.setattr(tasks.generate_slot_image, "apply_async", lambda args, **kwargs: queued.append(args))

    def on_retry(sender=None, request=None, reason=None, **kwargs):
        retries.append((request.retries, reason.when))

    task_retry.connect(on_retry, weak=False)

    class Images:
        def run_queued(self):
            while queued:
                run_eagerly(tasks.generate_slot_image, queued.pop(0))

    images = Images()
    images.queued, images.retries = queued, retries
    yield images
    task_retry.disconnect(on_retry)


def generate_copy(run: Run, django_capture_on_commit_callbacks) -> Deliverable:
    slot = run.deliverables.get()
    with django_capture_on_commit_callbacks(execute=True):  # the image task is queued once the copy commits
        deliverable_generate(deliverable_id=str(slot.pk), redelivered=False)
    slot.refresh_from_db()
    return slot


def flaky_images(monkeypatch, failures: int, error=None) -> list[str]:
    """The offline provider's image call fails `failures` times (a 503 by default), then draws as usual."""
    calls: list[str] = []
    draw = offline.OfflineProvider.generate_image

    def generate_image(self, request):
        calls.append(request.prompt)
        if len(calls) <= failures:
            raise error or ProviderError("image service unavailable", provider="offline", status_code=503)
        return draw(self, request)

    monkeypatch.setattr(offline.OfflineProvider, "generate_image", generate_image)
    return calls


def image_calls(run: Run) -> list[str]:
    return list(
        run.provider_calls.filter(use_case="image").order_by("created_at", "pk").values_list("outcome", flat=True)
    )


def test_a_slot_with_an_image_stays_running_with_its_copy_saved_until_its_image_task_ends(
    marketer, django_capture_on_commit_callbacks, image_tasks
):
    run = new_run(marketer, django_capture_on_commit_callbacks)

    slot = generate_copy(run, django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert (slot.generation_status, slot.version) == (Deliverable.Generation.RUNNING, 1)
    assert Revision.objects.filter(deliverable=slot, version=1).exists()  # the copy is saved as before
    assert image_tasks.queued == [[str(slot.pk)]]
    assert run.status == Run.Status.RUNNING  # not reported finished without its image
    assert run_progress(run) == {"done": 0, "total": 1}

    image_tasks.run_queued()

    slot.refresh_from_db()
    run.refresh_from_db()
    assert slot.generation_status == Deliverable.Generation.DONE
    assert (run.status, run.warnings, run_progress(run)) == (Run.Status.SUCCESS, [], {"done": 1, "total": 1})
    assert Asset.objects.get().deliverable == slot


def test_a_transient_image_failure_is_retried_by_celery_with_backoff_until_it_succeeds(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch, settings
):
    calls = flaky_images(monkeypatch, failures=2)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    slot = generate_copy(run, django_capture_on_commit_callbacks)

    image_tasks.run_queued()

    run.refresh_from_db()
    slot.refresh_from_db()
    assert len(calls) == 3
    assert image_calls(run) == ["error", "error", "ok"]  # every attempt is a ProviderCall of the run
    assert [retries for retries, _ in image_tasks.retries] == [0, 1]  # two retries, scheduled by Celery
    for retries, countdown in image_tasks.retries:  # full jitter: 0 to factor * 2**retries seconds, capped
        assert 0 <= countdown <= min(settings.AICMO_IMAGE_RETRY_BACKOFF_S * 2**retries, 30)
    assert Asset.objects.get().deliverable == slot
    assert (slot.generation_status, run.status, run.warnings) == ("done", Run.Status.SUCCESS, [])


def test_an_image_that_keeps_failing_ends_after_the_last_retry_and_the_copy_is_kept_with_a_warning(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch, settings
):
    calls = flaky_images(monkeypatch, failures=99)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    slot = generate_copy(run, django_capture_on_commit_callbacks)

    image_tasks.run_queued()

    run.refresh_from_db()
    slot.refresh_from_db()
    assert len(calls) == settings.AICMO_IMAGE_RETRIES + 1 == 3
    assert image_calls(run) == ["error"] * 3
    assert (slot.generation_status, slot.version) == (Deliverable.Generation.DONE, 1)
    assert run.status == Run.Status.SUCCESS
    assert run.warnings == ["ad_copy: The image could not be generated; the copy is saved without it."]
    assert (Revision.objects.count(), Asset.objects.count()) == (1, 0)


@pytest.mark.parametrize(
    "error",
    [
        UnsupportedOperation("this provider makes no images", provider="offline"),
        ProviderError("content policy", provider="offline", status_code=400, retryable=False),
    ],
    ids=["no provider can make images", "terminal 4xx"],
)
def test_an_image_failure_no_retry_can_cure_is_not_retried(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch, error
):
    calls = flaky_images(monkeypatch, failures=99, error=error)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    generate_copy(run, django_capture_on_commit_callbacks)

    image_tasks.run_queued()

    run.refresh_from_db()
    assert (len(calls), image_tasks.retries) == (1, [])
    assert run.status == Run.Status.SUCCESS
    assert run.warnings == ["ad_copy: The image could not be generated; the copy is saved without it."]
    assert Asset.objects.count() == 0


def test_a_budget_spent_before_the_image_makes_no_image_call_and_says_why(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch
):
    calls = flaky_images(monkeypatch, failures=0)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    generate_copy(run, django_capture_on_commit_callbacks)

    def spent(brand_id):
        raise BudgetExceeded("spent")

    monkeypatch.setattr(slot_image, "budget_check", spent)
    image_tasks.run_queued()

    run.refresh_from_db()
    assert (calls, image_tasks.retries, Asset.objects.count()) == ([], [], 0)
    assert run.warnings == ["ad_copy: The image was not generated: the brand's monthly budget is spent."]


def test_a_soft_time_limit_during_the_image_call_keeps_the_copy_and_settles_the_run(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch
):
    def too_slow(self, request):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(offline.OfflineProvider, "generate_image", too_slow)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    slot = generate_copy(run, django_capture_on_commit_callbacks)

    image_tasks.run_queued()

    run.refresh_from_db()
    slot.refresh_from_db()
    assert (slot.generation_status, run.status, image_tasks.retries) == ("done", Run.Status.SUCCESS, [])
    assert run.warnings == ["ad_copy: The image could not be generated; the copy is saved without it."]
    assert (Revision.objects.count(), Asset.objects.count()) == (1, 0)


def test_a_redelivered_image_task_after_the_slot_ended_makes_no_second_image(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch
):
    calls = flaky_images(monkeypatch, failures=0)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    slot = generate_copy(run, django_capture_on_commit_callbacks)
    image_tasks.queued.append([str(slot.pk)])  # the same message twice

    image_tasks.run_queued()

    assert (len(calls), Asset.objects.count()) == (1, 1)


def test_a_lost_image_task_is_sent_again_when_the_sweeper_sends_the_slot_again(
    marketer, django_capture_on_commit_callbacks, image_tasks, monkeypatch
):
    flaky_images(monkeypatch, failures=0)
    run = new_run(marketer, django_capture_on_commit_callbacks)
    slot = generate_copy(run, django_capture_on_commit_callbacks)
    image_tasks.queued.clear()  # the image message was lost

    with django_capture_on_commit_callbacks(execute=True):
        deliverable_generate(deliverable_id=str(slot.pk), redelivered=True)  # the sweeper's re-dispatch

    assert image_tasks.queued == [[str(slot.pk)]]
    assert Revision.objects.filter(deliverable=slot).count() == 1  # the copy is not written again
    image_tasks.run_queued()
    run.refresh_from_db()
    assert (run.status, Asset.objects.get().deliverable_id) == (Run.Status.SUCCESS, slot.pk)


# --- the provider a run names ------------------------------------------------------------------------------------


def record_call(run: Run, provider: str, model: str, outcome: str) -> None:
    ProviderCall.objects.create(
        run=run, brand_id=run.brand_id, provider=provider, model=model, use_case="ad_copy", outcome=outcome
    )


def test_a_run_with_no_deliverable_names_the_provider_of_its_last_call_made(
    marketer, django_capture_on_commit_callbacks
):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    record_call(run, "openai", "gpt-4.1-mini", ProviderCall.Outcome.ERROR)
    record_call(run, "anthropic", "claude-haiku-4-5", ProviderCall.Outcome.ERROR)
    record_call(run, "groq", "llama-3.3-70b", ProviderCall.Outcome.SKIPPED)  # never called

    totals = run_totals(run.pk, [])

    assert (totals["provider"], totals["model"]) == ("anthropic", "claude-haiku-4-5")


def test_a_run_whose_providers_were_all_skipped_names_none(marketer, django_capture_on_commit_callbacks):
    run = new_run(marketer, django_capture_on_commit_callbacks)
    record_call(run, "openai", "gpt-4.1-mini", ProviderCall.Outcome.SKIPPED)

    totals = run_totals(run.pk, [])

    assert (totals["provider"], totals["model"]) == ("none", "")
