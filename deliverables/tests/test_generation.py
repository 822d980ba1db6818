"""The generation services themselves (tasks run in-process, offline provider): who may start a run, how a
slot ends when its image call or its save goes wrong, and which provider a run names."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from aicmo.llm.exceptions import ProviderError
from aicmo.llm.providers import offline
from brands.tests.factories import UserFactory
from deliverables.models import Asset, Deliverable, ProviderCall, Revision, Run
from deliverables.services import Slot, deliverable_generate, run_create, run_totals

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


def test_a_soft_time_limit_during_the_image_call_fails_the_slot_with_a_timeout_and_settles_the_run(
    marketer, django_capture_on_commit_callbacks, monkeypatch
):
    def too_slow(self, request):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(offline.OfflineProvider, "generate_image", too_slow)
    run = new_run(marketer, django_capture_on_commit_callbacks)

    slot = generate_only_slot(run)

    assert slot.generation_status == Deliverable.Generation.FAILED
    assert slot.error["type"] == "TIMEOUT"
    assert slot.error["message"].startswith("Timed out: generating took longer than ")
    assert (run.status, run.error["type"]) == (Run.Status.FAILED, "TIMEOUT")
    assert (Revision.objects.count(), Asset.objects.count()) == (0, 0)


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


def test_an_image_the_providers_cannot_make_only_warns(marketer, django_capture_on_commit_callbacks, monkeypatch):
    def refuse(self, request):
        raise ProviderError("image model down", provider="offline")

    monkeypatch.setattr(offline.OfflineProvider, "generate_image", refuse)
    run = new_run(marketer, django_capture_on_commit_callbacks)

    slot = generate_only_slot(run)

    assert (slot.generation_status, slot.version) == (Deliverable.Generation.DONE, 1)
    assert run.status == Run.Status.SUCCESS
    assert run.warnings == ["ad_copy: The image could not be generated; the copy is saved without it."]
    assert (Revision.objects.count(), Asset.objects.count()) == (1, 0)


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
