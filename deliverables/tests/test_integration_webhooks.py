"""A webhook delivered by a real Celery worker to a real receiver process that is down for the first two
attempts: the third delivers, and the delivery log shows all three."""

import subprocess
import sys
import textwrap
import time

import pytest

from aicmo.testing.processes import celery_worker, flush_redis
from deliverables.models import Webhook, WebhookDelivery
from deliverables.services.webhooks import webhook_emit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECEIVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    seen = 0
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            global seen
            seen += 1
            self.rfile.read(int(self.headers["Content-Length"]))
            code = 503 if seen <= 2 else 200
            self.send_response(code); self.end_headers(); self.wfile.write(b"attempt %d" % seen)
        def log_message(self, *args): pass
    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_port, flush=True)
    server.serve_forever()
    """
)


def test_the_receiver_down_twice_gets_the_third_attempt(brand, tmp_path):
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    flush_redis()
    worker = celery_worker(tmp_path / "worker.log", concurrency=1, AICMO_WEBHOOK_BACKOFF_S="0.3").start(
        ready_text="ready."
    )
    try:
        port = int(receiver.stdout.readline())
        hook = Webhook.objects.create(
            brand=brand, url=f"http://127.0.0.1:{port}/hook", events=["run.succeeded"], secret="s3cret"
        )
        assert webhook_emit(brand_id=brand.pk, event="run.succeeded", data={"run_id": "r1"}) == 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not WebhookDelivery.objects.filter(webhook=hook, ok=True).exists():
            time.sleep(0.2)
        rows = list(WebhookDelivery.objects.filter(webhook=hook).order_by("attempt"))
        assert [(r.attempt, r.status_code, r.ok, r.response_excerpt) for r in rows] == [
            (1, 503, False, "attempt 1"),
            (2, 503, False, "attempt 2"),
            (3, 200, True, "attempt 3"),
        ]
        assert len({r.event_id for r in rows}) == 1
    finally:
        worker.stop()
        receiver.terminate()
        receiver.wait(timeout=10)
