"""Webhooks: managers subscribe, the SSRF guard refuses inside addresses in production, every event is signed
with the secret shown once, and each delivery attempt is logged."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from deliverables import tasks
from deliverables.models import Webhook, WebhookDelivery
from deliverables.services import deliverable_submit
from deliverables.services.webhooks import webhook_attempt

from .review_helpers import generate_campaign, of_kind

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server recording what it is sent (answering `statuses` in turn, then 200)."""

    def __init__(self, statuses=()):
        self.requests, self.statuses = [], list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"thanks" if code == 200 else b"down")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def create(api, url, events=("deliverable.submitted",)):
    return api.post("/api/v1/webhooks", {"url": url, "events": list(events)}, format="json")


def test_a_loopback_url_is_refused_in_production_and_accepted_in_dev(settings, manager_api, receiver):
    settings.AICMO_WEBHOOK_ALLOW_PRIVATE = False  # production
    for url in (receiver.url, "http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://[::1]/x"):
        response = create(manager_api, url)
        assert response.status_code == 400, url
        assert "not a public address" in json.dumps(response.json())
    assert not Webhook.objects.exists()

    settings.AICMO_WEBHOOK_ALLOW_PRIVATE = True  # dev
    response = create(manager_api, receiver.url)
    assert response.status_code == 201
    body = response.json()
    assert len(body["secret"]) == 64 and body["events"] == ["deliverable.submitted"] and body["brand"] == "acme"
    assert "secret" not in manager_api.get("/api/v1/webhooks").json()[0]  # shown once


def test_marketers_cannot_add_webhooks_and_bad_events_are_refused(settings, marketer_api, manager_api, receiver):
    settings.AICMO_WEBHOOK_ALLOW_PRIVATE = True
    assert create(marketer_api, receiver.url).status_code == 403
    assert create(manager_api, receiver.url, events=["run.exploded"]).status_code == 400
    assert not Webhook.objects.exists()


def test_the_event_is_signed_with_the_shown_secret_and_the_attempt_logged(
    settings, manager_api, marketer, run_tasks_inline, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    settings.AICMO_WEBHOOK_ALLOW_PRIVATE = True
    secret = create(manager_api, receiver.url).json()["secret"]
    post = of_kind(
        generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"], deliverables=["social_posts"]),
        "linkedin_post",
    )
    # The task body, in-process (the real worker and its retries are the integration test's).
    monkeypatch.setattr(
        tasks.deliver_webhook,
        "apply_async",
        lambda args, **kw: webhook_attempt(webhook_id=args[0], event_id=args[1], body=args[2], attempt=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_submit(deliverable=post, actor=marketer)

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-aicmo-signature"] == expected
    payload = json.loads(body)
    assert set(payload) == {"event", "timestamp", "data"} and payload["event"] == "deliverable.submitted"
    assert payload["data"]["deliverable_id"] == str(post.pk) and payload["data"]["status"] == "in_review"
    hook = Webhook.objects.get()
    deliveries = manager_api.get(f"/api/v1/webhooks/{hook.pk}/deliveries").json()
    assert [(d["attempt"], d["status_code"], d["ok"], d["response_excerpt"]) for d in deliveries] == [
        (1, 200, True, "thanks")
    ]


def test_a_redirect_is_not_followed(settings, receiver, manager, brand):
    from deliverables.services.webhooks import DeliveryFailed, webhook_attempt

    settings.AICMO_WEBHOOK_ALLOW_PRIVATE = True
    receiver.statuses = [302]
    hook = Webhook.objects.create(brand=brand, url=receiver.url, events=["comment.created"], secret="s")
    body = {"event": "comment.created", "timestamp": "t", "data": {}}
    with pytest.raises(DeliveryFailed):
        webhook_attempt(webhook_id=hook.pk, event_id="00000000-0000-0000-0000-000000000001", body=body, attempt=1)
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status_code == 302
