"""POST /chatkit under uvicorn (as `make run` serves it): open answers hold no thread and share one Redis pub/sub
connection per web process, and each ends with its whole reply once the worker's side has written it."""

import json
import socket
import time
from urllib.parse import urlparse

import pytest
import redis
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadItemAddedEvent, ThreadItemDoneEvent
from django.utils import timezone
from rest_framework.authtoken.models import Token

from aicmo.testing.processes import UVICORN_READY, flush_redis, uvicorn, wait_http
from creatives.models import StudioThread
from creatives.studio.relay import ReplyPublisher, channel_name, connection_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OPEN_STREAMS = 20


def thread_count(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("Threads:")).split()[1])


def _open_stream(url: str, token: str, thread_id: str) -> socket.socket:
    body = json.dumps(
        {
            "type": "threads.add_user_message",
            "params": {
                "thread_id": thread_id,
                "input": {
                    "content": [{"type": "input_text", "text": "hi"}],
                    "attachments": [],
                    "inference_options": {},
                },
            },
        }
    ).encode()
    parts = urlparse(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(
        (
            f"POST /chatkit HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        + body
    )
    return sock


def subscribed(client: redis.Redis, threads: list[StudioThread]) -> int:
    """How many of these threads' replies have a subscriber (channels are server-wide: count only ours)."""
    keys = (
        StudioThread.objects.filter(pk__in=[t.pk for t in threads])
        .exclude(reply_key="")
        .values_list("reply_key", flat=True)
    )
    channels = [channel_name(key) for key in keys]
    return sum(1 for _, count in client.pubsub_numsub(*channels) if count) if channels else 0


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_open_answers_hold_no_thread_and_share_one_pubsub_connection(marketer, brand, tmp_path, settings):
    flush_redis()
    settings.REDIS_URL = settings.TEST_REDIS_URL  # this process writes the replies, as a worker would
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)
    token = Token.objects.create(user=marketer).key
    threads = StudioThread.objects.bulk_create(
        [StudioThread(user=marketer, brand=brand, title=f"T{i}") for i in range(OPEN_STREAMS)]
    )
    # No worker: each answer stays open until this test writes its reply. The per-user cap is raised; no idle
    # request thread is kept, so the thread count shows what the open answers hold.
    web = uvicorn(
        tmp_path / "web.log", AICMO_MAX_CONCURRENT_STREAMS=str(OPEN_STREAMS), AICMO_REQUEST_THREADS_KEPT="0"
    ).start(ready_text=UVICORN_READY)
    try:
        wait_http(web.url + "/healthz")
        threads_before = thread_count(web.proc.pid)
        socks = [_open_stream(web.url, token, str(thread.pk)) for thread in threads]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every answer has claimed its reply and subscribed
            if subscribed(client, threads) == OPEN_STREAMS:
                break
            time.sleep(0.2)
        threads_during = thread_count(web.proc.pid)
        pubsub_clients = [c for c in client.client_list(_type="pubsub") if c["name"] == connection_name(web.proc.pid)]
        for thread in StudioThread.objects.filter(pk__in=[t.pk for t in threads]):
            publisher = ReplyPublisher(thread.reply_key)
            item = AssistantMessageItem(
                id=f"msg_{thread.pk.hex[:8]}", thread_id=str(thread.pk), created_at=timezone.now(), content=[]
            )
            publisher.event(ThreadItemAddedEvent(item=item))
            done = item.model_copy(update={"content": [AssistantMessageContent(text=f"Answer {thread.title}")]})
            publisher.event(ThreadItemDoneEvent(item=done))
            publisher.end()
        answers = [_read_all(sock) for sock in socks]
    finally:
        web.stop()

    assert subscribed(client, threads) == 0  # every answer ended and unsubscribed
    assert len(pubsub_clients) == 1, pubsub_clients  # twenty open answers, one connection
    # No thread per open answer: at most the event loop's shared pool (cpu count + 4) and the studio's ORM threads.
    assert threads_during - threads_before < OPEN_STREAMS // 2, (threads_before, threads_during)
    for thread, answer in zip(threads, answers, strict=True):
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert f"Answer {thread.title}".encode() in answer
        assert answer.count(b'"type":"thread.item.done"') == 2  # the user's message and the answer, once each
