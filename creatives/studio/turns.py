"""A reply's deliveries and how far it got (worker side), so a redelivered task resumes it instead of answering
twice.

The reply's Celery task is `acks_late` with `reject_on_worker_lost`: when its worker dies mid-answer the task
is delivered again with the same arguments. Each delivery claims the next attempt on the thread (a conditional
UPDATE on the reply's key); a delivery past `MAX_ATTEMPTS` ends the reply with an error instead of looping.

What a reply has done is read back from what it saved: a round in progress is the thread's `reply_state`
(saved with the round's text, each tool's result added as the tool finishes: assistant.py), the finished
rounds are the turn's items (those after the marketer's message), so a redelivery knows which tool calls
still need running, which rounds are done, and whether the answer was already complete (then it only tidies
up)."""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F

from ..models import StudioItem, StudioThread
from .items import ITEM

MAX_ATTEMPTS = 3


def attempt_claim(thread_id: str, reply_key: str) -> int | None:
    """The number of this delivery of the reply (1 for the first), or None when the reply is no longer the
    thread's (it ended, or a newer one took over): then there is nothing to do."""
    with transaction.atomic():
        updated = StudioThread.objects.filter(pk=thread_id, reply_key=reply_key).update(
            reply_attempt=F("reply_attempt") + 1
        )
        if not updated:
            return None
        return StudioThread.objects.filter(pk=thread_id).values_list("reply_attempt", flat=True).first()


def attempt_current(thread_id: str, reply_key: str, attempt: int) -> bool:
    """Whether this delivery still owns the reply (a later delivery supersedes it)."""
    return StudioThread.objects.filter(pk=thread_id, reply_key=reply_key, reply_attempt=attempt).exists()


@dataclass
class TurnProgress:
    items: list[Any] = field(default_factory=list)  # the turn's saved items, oldest first
    rounds: int = 0  # model calls whose tool round was saved
    finished: bool = False  # the answer is complete: nothing more to ask the model
    pending_client_call: dict[str, Any] | None = None  # the last round's client tool call, not yet handed over


def turn_progress(thread_pk, user_item_id: str, *, client_tools: tuple[str, ...]) -> TurnProgress:
    """How far the reply to the marketer's message `user_item_id` got, from the items saved after it."""
    items = StudioItem.objects.filter(thread_id=thread_pk)
    anchor = items.filter(item_id=user_item_id).values_list("seq", flat=True).first()
    if anchor is None:  # (never expected: the message is saved before its reply is queued) its latest message
        anchor = items.filter(type="user_message").order_by("-seq").values_list("seq", flat=True).first() or 0
    rows = items.filter(seq__gt=anchor).order_by("seq")
    progress = TurnProgress(items=[ITEM.validate_python(row.data) for row in rows])
    last_text = None
    for item in progress.items:
        if item.type == "assistant_message":
            last_text = item.id
        elif item.type == "client_tool_call":
            progress.finished = True  # the turn ended with the front end's tool
        elif _is_round(item):
            progress.rounds += 1
            last_text = None
            client = [c for c in item.content.get("tool_calls", []) if c["name"] in client_tools]
            progress.pending_client_call = client[0] if client else None
    if last_text is not None or progress.finished:  # a message after the last round, or the client's tool
        progress.finished = True
        progress.pending_client_call = None
    return progress


def _is_round(item: Any) -> bool:
    return (
        item.type == "hidden_context_item"
        and isinstance(item.content, dict)
        and item.content.get("kind") == "tool_round"
    )
