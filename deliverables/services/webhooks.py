"""Webhooks (contract §5): per brand; each event is POSTed as `{"event", "timestamp", "data"}` with
`X-AICMO-Signature: sha256=<HMAC-SHA256 of the body with the webhook's secret>`, by a Celery task that retries
with exponential backoff and logs every attempt. Outside DEBUG (AICMO_WEBHOOK_ALLOW_PRIVATE off), targets
resolving to loopback, private, link-local or reserved addresses are refused, when the webhook is saved and
again before every attempt; redirects are never followed (a 3xx is a failed attempt)."""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aicmo.celery import app as celery_app
from aicmo.core.errors import ApplicationError, PermissionDenied
from brands import roles

from ..models import Webhook, WebhookDelivery, WebhookEvent

EXCERPT = 500
# By name, as dispatch does: the task module imports these services.
WEBHOOK_TASK = "deliverables.tasks.deliver_webhook"


def webhook_create(*, brand, actor, url: str, events: list[str]) -> Webhook:
    """A manager of the brand subscribes `url` to `events`; the returned row's secret is shown once."""
    if not roles.may(actor, brand.pk, roles.EDIT_BRAND):
        raise PermissionDenied(f"Only a manager of {brand.name} may add webhooks.")
    unknown = [e for e in events if e not in WebhookEvent.values]
    if not events or unknown:
        raise ApplicationError(
            "Unknown or missing events.",
            details={"events": [f"Choose from: {', '.join(WebhookEvent.values)}."]},
        )
    target_check(url)
    return Webhook.objects.create(
        brand=brand, url=url, events=sorted(set(events)), secret=secrets.token_hex(32), created_by=actor
    )


def target_check(url: str) -> None:
    """Refuse a URL that is not http(s), or (outside DEBUG) resolves to an address inside the network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError("A webhook URL is http(s)://host/…", details={"url": ["Enter an http or https URL."]})
    if settings.AICMO_WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError) as error:
        raise ApplicationError("The webhook host does not resolve.", details={"url": ["Unknown host."]}) from error
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise ApplicationError(
                "Webhook URLs may not point inside the network (loopback, private, link-local or reserved).",
                details={"url": [f"{parts.hostname} resolves to {ip}, which is not a public address."]},
            )


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_emit(*, brand_id: int, event: str, data: dict) -> int:
    """Queue `event` for every active webhook of the brand subscribed to it, once the transaction commits."""
    hooks = [h for h in Webhook.objects.filter(brand_id=brand_id, active=True) if event in h.events]
    if not hooks:
        return 0
    body = {"event": event, "timestamp": timezone.now().isoformat(), "data": data}
    event_id = str(uuid.uuid4())

    def enqueue():
        deliver_webhook = celery_app.tasks[WEBHOOK_TASK]
        for hook in hooks:
            deliver_webhook.apply_async(args=[hook.pk, event_id, body])

    transaction.on_commit(enqueue)
    return len(hooks)


class DeliveryFailed(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is answered as the 3xx it is, never followed (it could point inside)


_OPENER = urllib.request.build_opener(_NoRedirects)


def webhook_attempt(*, webhook_id: int, event_id: str, body: dict, attempt: int) -> WebhookDelivery | None:
    """POST one attempt and log it. Raises DeliveryFailed (after logging) so the task retries."""
    hook = Webhook.objects.filter(pk=webhook_id, active=True).first()
    if hook is None:
        return None
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    row = WebhookDelivery(webhook=hook, event_id=event_id, event=body["event"], attempt=attempt)
    started = time.monotonic()
    try:
        target_check(hook.url)
        request = urllib.request.Request(
            hook.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "AICMO-Webhooks/1",
                "X-AICMO-Event": body["event"],
                "X-AICMO-Delivery": event_id,
                "X-AICMO-Signature": signature(hook.secret, payload),
            },
        )
        with _OPENER.open(request, timeout=settings.AICMO_WEBHOOK_TIMEOUT_S) as response:
            row.status_code = response.status
            row.response_excerpt = response.read(EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        row.status_code = error.code
        row.response_excerpt = (error.read(EXCERPT) or b"").decode("utf-8", "replace")
    except ApplicationError as error:
        row.error = error.message[:500]
    except (OSError, ValueError) as error:
        row.error = f"{type(error).__name__}: {error}"[:500]
    row.latency_ms = int((time.monotonic() - started) * 1000)
    row.ok = row.status_code is not None and 200 <= row.status_code < 300
    row.save()
    if not row.ok:
        raise DeliveryFailed(row.error or f"HTTP {row.status_code}")
    return row
