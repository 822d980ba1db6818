"""POST → real Celery worker process → SUCCESS envelope, on PostgreSQL and Redis."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from deliverables.envelope import validate_envelope
from deliverables.models import Revision

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_campaign_is_generated_by_a_real_worker(marketer, celery_worker_process):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")

    response = client.post(
        "/api/v1/campaigns/generate?wait=60",
        {
            "campaign_name": "Q1 Launch",
            "platforms": ["linkedin", "instagram", "email"],
            "budget": 5000,
        },
        format="json",
    )

    assert response.status_code == 200, celery_worker_process.output()[-2000:]
    envelope = response.json()
    assert validate_envelope(envelope) == []
    assert envelope["status"] == "SUCCESS"
    assert envelope["progress"] == {"done": 6, "total": 6}
    assert {d["metadata"]["provider"] for d in envelope["deliverables"]} == {"offline"}
    assert all("Q1 Launch" in d["content_markdown"] or "Q1 Launch" in d["title"] for d in envelope["deliverables"])
    assert Revision.objects.count() == 6
    assert "generate_deliverable" in celery_worker_process.output()


def test_a_rewrite_is_done_by_a_real_worker(marketer, celery_worker_process):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")
    generated = client.post(
        "/api/v1/campaigns/generate?wait=60",
        {"campaign_name": "Q1 Launch", "platforms": ["linkedin"], "deliverables": ["social_posts"]},
        format="json",
    ).json()
    (post,) = generated["deliverables"]

    response = client.post(
        f"/api/v1/deliverables/{post['id']}/rewrite?wait=60",
        {"action": "variants", "version": 1, "count": 2},
        format="json",
    )

    assert response.status_code == 200, celery_worker_process.output()[-2000:]
    body = response.json()
    assert body["status"] == "done"
    assert len(body["variants"]) == 2
    assert {v["run_id"] for v in body["variants"]} == {generated["run_id"]}
    assert "rewrite_deliverable" in celery_worker_process.output()
