"""The studio's generate_ad_image runs as a Celery task of its own, retried by Celery (`autoretry_for`, backoff
with jitter) and by nothing else: the reply pauses while it runs and goes on with its result, so the marketer
sees the image, or a clear error, in the same answer. Replies and image tasks run in worker threads; the image
task as Celery's eager mode runs it (its retries included)."""

import pytest
from celery.signals import task_retry
from chatkit.types import ThreadItemDoneEvent, WidgetItem

from aicmo.llm.exceptions import ProviderError, UnsupportedOperation
from aicmo.llm.providers import offline
from creatives.models import StudioThread
from creatives.studio import concepts
from deliverables.models import Asset, ProviderCall

from .test_chatkit import add, assistant_text, create

pytestmark = pytest.mark.django_db(transaction=True)

ASK_FOR_IMAGE = "Make an image of a glass of iced coffee"


@pytest.fixture
def retries():
    """The retries Celery schedules for the studio image task: (retries so far, countdown)."""
    seen = []

    def on_retry(sender=None, request=None, reason=None, **kwargs):
        if sender.name == "creatives.tasks.studio_image":
            seen.append((request.retries, reason.when))

    task_retry.connect(on_retry, weak=False)
    yield seen
    task_retry.disconnect(on_retry)


def flaky_images(monkeypatch, failures: int, error=None) -> list[str]:
    calls: list[str] = []
    draw = offline.OfflineProvider.generate_image

    def generate_image(self, request):
        calls.append(request.prompt)
        if len(calls) <= failures:
            raise error or ProviderError("image service unavailable", provider="offline", status_code=503)
        return draw(self, request)

    monkeypatch.setattr(offline.OfflineProvider, "generate_image", generate_image)
    return calls


def image_outcomes() -> list[str]:
    return list(
        ProviderCall.objects.filter(use_case="image").order_by("created_at", "pk").values_list("outcome", flat=True)
    )


def widgets(events) -> list[WidgetItem]:
    return [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)]


def test_a_transient_image_failure_is_retried_by_celery_and_the_reply_shows_the_image(
    chatkit_as, marketer, brand, worker_threads, monkeypatch, retries, settings
):
    calls = flaky_images(monkeypatch, failures=2)
    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("Product: cold brew concentrate, style: bold, tone: playful"))[0].thread.id

    events = chatkit.stream(add(thread_id, ASK_FOR_IMAGE))

    thread = StudioThread.objects.get(pk=thread_id)
    image = Asset.objects.get()
    assert len(calls) == 3
    assert image_outcomes() == ["error", "error", "ok"]  # three attempts, each a ProviderCall
    assert [n for n, _ in retries] == [0, 1]  # scheduled by Celery, not slept in the worker
    for n, countdown in retries:
        assert 0 <= countdown <= min(settings.AICMO_IMAGE_RETRY_BACKOFF_S * 2**n, 30)
    assert thread.pending_images == [str(image.pk)]
    assert "I'll attach it to the concept you save next." in assistant_text(events)
    [widget] = widgets(events)
    assert image.url in widget.widget.model_dump_json()
    assert (thread.reply_key, thread.reply_state) == ("", {})  # the reply ended, after its image


def test_an_image_no_provider_can_make_is_not_retried_and_the_reply_says_so(
    chatkit_as, marketer, brand, worker_threads, monkeypatch, retries
):
    calls = flaky_images(monkeypatch, failures=99, error=UnsupportedOperation("no image model", provider="offline"))
    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("Product: cold brew concentrate"))[0].thread.id

    events = chatkit.stream(add(thread_id, ASK_FOR_IMAGE))

    assert (len(calls), retries, Asset.objects.count()) == (1, [], 0)
    assert "I could not make the image: No configured provider can make images." in assistant_text(events)
    assert StudioThread.objects.get(pk=thread_id).reply_key == ""


def test_an_image_that_keeps_failing_ends_after_celerys_last_retry_with_a_clear_error(
    chatkit_as, marketer, brand, worker_threads, monkeypatch, retries, settings
):
    calls = flaky_images(monkeypatch, failures=99)
    chatkit = chatkit_as(marketer)
    thread_id = chatkit.stream(create("Product: cold brew concentrate"))[0].thread.id

    events = chatkit.stream(add(thread_id, ASK_FOR_IMAGE))

    assert len(calls) == settings.AICMO_IMAGE_RETRIES + 1 == 3
    assert len(retries) == 2 and Asset.objects.count() == 0
    assert "The image could not be made after 3 attempts; try again in a moment." in assistant_text(events)
    assert StudioThread.objects.get(pk=thread_id).reply_key == ""


def test_the_studio_has_no_retry_loop_of_its_own():
    """One retry loop for images, Celery's: the hand-written attempts and backoff sleeps are gone."""
    for name in ("IMAGE_ATTEMPTS", "IMAGE_BACKOFF_S", "backoff_sleep"):
        assert not hasattr(concepts, name), name
