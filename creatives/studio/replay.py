"""What a reader of a reply's stream may pass on, so the client sees every item once.

Each entry of a reply's stream is an envelope `{"attempt", "seq", "event"}`: `attempt` counts the deliveries of
the reply's task (a worker that died mid-answer and was redelivered writes attempt 2), `seq` numbers the
entries of one attempt from 1. A reader (`Replay`, one per open stream):
- drops what it already passed on, or what a superseded attempt still writes ((attempt, seq) not above the
  last one passed on): a transport that delivers an entry twice (history then live) shows it once;
- when a later attempt starts (its first entry, a reset, lists the items of the turn already saved: the
  redelivery resumes from them and announces each again as done), takes back (ThreadItemRemovedEvent) the
  items the previous attempt opened and that are not among them: the half-streamed text is replaced by the
  new attempt's, a finished item stays; a done event for an item already passed on as done is dropped;
- skips every event of the items the client says it already has (a page that reloaded and listed the
  thread's items before resuming the stream).
Pure logic over JSON: the transport (relay.py) is the caller's."""

import json
from collections.abc import Iterable
from typing import Any

from chatkit.types import (
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)
from pydantic import TypeAdapter

EVENT = TypeAdapter(ThreadStreamEvent)
HAVE_MAX = 500  # item ids a client may list as already shown


def wrap(*, attempt: int, seq: int, event: Any = None, kept: Iterable[str] = ()) -> str:
    """One stream entry: `event` (a ThreadStreamEvent) as the `seq`th entry of delivery `attempt`; no event: a
    reset (a new delivery starts; `kept`: the ids of the turn's items it found saved)."""
    envelope: dict[str, Any] = {"attempt": attempt, "seq": seq}
    if event is None:
        envelope["reset"] = True
        envelope["kept"] = list(kept)
    else:
        envelope["event"] = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(envelope, separators=(",", ":"))


def _item_id(event: Any) -> str | None:
    if isinstance(event, (ThreadItemAddedEvent, ThreadItemDoneEvent, ThreadItemReplacedEvent)):
        return event.item.id
    if isinstance(event, (ThreadItemUpdatedEvent, ThreadItemRemovedEvent)):
        return event.item_id
    return None


class Replay:
    def __init__(self, have: Iterable[str] = ()):
        self.have = set(have)
        self.attempt = 0
        self.seq = 0
        self.open: dict[str, None] = {}  # items passed on as added and not yet done or removed, in order
        self.finished: set[str] = set()  # items passed on as done

    def feed(self, data: dict[str, Any]) -> list[Any]:
        """The events to pass on for one stream entry (as read: the envelope's JSON)."""
        if "attempt" not in data:  # a bare event (a publisher from before envelopes)
            return self._pass(EVENT.validate_python(data))
        attempt, seq = int(data["attempt"]), int(data["seq"])
        if (attempt, seq) <= (self.attempt, self.seq):
            return []
        out: list[Any] = []
        if attempt > self.attempt:
            kept = set(data.get("kept") or ())
            out = [ThreadItemRemovedEvent(item_id=item_id) for item_id in self.open if item_id not in kept]
            self.open = {item_id: None for item_id in self.open if item_id in kept}
        self.attempt, self.seq = attempt, seq
        if "event" not in data:
            return out
        return out + self._pass(EVENT.validate_python(data["event"]))

    def _pass(self, event: Any) -> list[Any]:
        item_id = _item_id(event)
        if item_id is None:
            return [event]
        if item_id in self.have:
            return []
        if isinstance(event, ThreadItemAddedEvent):
            self.open[item_id] = None
        elif isinstance(event, ThreadItemDoneEvent):
            if item_id in self.finished:
                return []
            self.finished.add(item_id)
            self.open.pop(item_id, None)
        elif isinstance(event, ThreadItemRemovedEvent):
            self.open.pop(item_id, None)
            self.finished.discard(item_id)
        return [event]


def have_from(payload: Any) -> list[str] | None:
    """The `have` list of a studio.resume payload, or None when it is not a list of ids."""
    have = payload.get("have", []) if isinstance(payload, dict) else []
    if not isinstance(have, list) or not all(isinstance(i, str) and len(i) <= 64 for i in have):
        return None
    return have[-HAVE_MAX:]
