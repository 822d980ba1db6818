"""A run's image made by a real Celery worker against the fake OpenAI server, whose image endpoint answers 503
twice: Celery retries the image task (not a loop inside it), the third attempt makes the image, the run is
reported SUCCESS only with the image attached, and every attempt is a ProviderCall."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from aicmo.testing.fake_llm_server import Reply
from aicmo.testing.processes import celery_worker, flush_redis
from deliverables.envelope import validate_envelope
from deliverables.models import Asset, ProviderCall

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_image_the_provider_refuses_twice_is_made_by_celerys_third_attempt(marketer, fake, tmp_path):
    fake.enqueue("images", Reply(status=503), Reply(status=503))
    flush_redis()
    worker = celery_worker(
        tmp_path / "worker.log",
        concurrency=2,
        OPENAI_API_KEY="sk-test-image-retry",
        OPENAI_BASE_URL=fake.openai_base_url,
        AICMO_LLM_PRIMARY_PROVIDER="openai",
        AICMO_LLM_FALLBACK_PROVIDERS="openai",  # openai alone: the offline provider would draw the image at once
        AICMO_IMAGE_RETRY_BACKOFF_S="1",
        AICMO_COOLDOWN_FAILURES="10",
    ).start(ready_text="ready.")
    try:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")

        response = client.post(
            "/api/v1/creatives/generate?wait=60",
            {"product": "Cold brew", "platforms": ["instagram"], "with_images": True},
            format="json",
        )

        assert response.status_code == 200, worker.output()[-3000:]
        envelope = response.json()
        assert validate_envelope(envelope) == []
        assert envelope["status"] == "SUCCESS" and envelope["meta"]["warnings"] == []
        [ad] = [d for d in envelope["deliverables"] if d["kind"] == "ad_copy"]
        image = Asset.objects.get(deliverable_id=ad["id"])
        assert ad["assets"]["image_url"] == image.url
        outcomes = ProviderCall.objects.filter(use_case="image").order_by("created_at", "pk")
        assert [(c.provider, c.outcome) for c in outcomes] == [
            ("openai", "error"),
            ("openai", "error"),
            ("openai", "ok"),
        ]
        assert len(fake.requests_to("images")) == 3
        log = worker.output()
        assert log.count("generate_slot_image") >= 3 and "retry: Retry in" in log  # Celery's own retries
    finally:
        worker.stop()
