"""The deliverables envelope (contract §4): how every generate answer and run read looks, how it is built
from the database, and the validator the server runs on every envelope it sends (clients may use it too).
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from .selectors import run_deliverables, run_progress

STATUSES = ("PENDING", "RUNNING", "SUCCESS", "PARTIAL", "FAILED")
ERROR_TYPES = (
    "VALIDATION_ERROR",
    "PROVIDER_ERROR",
    "RATE_LIMIT",
    "TIMEOUT",
    "QUEUE_UNAVAILABLE",
    "BUDGET_EXCEEDED",
    "INTERNAL_ERROR",
)
DELIVERABLE_STATUSES = ("draft", "in_review", "changes_requested", "approved")
ASSET_KEYS = ("image_url", "image_base64", "file_url", "slides")


class EnvelopeError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# --- building ----------------------------------------------------------------------------------------------


def build_envelope(run, *, deliverables: Iterable | None = None) -> dict[str, Any]:
    """The envelope of a run. `deliverables` (generated ones, with `current_revision` and `image_assets`
    attached) can be passed in by selectors that loaded them in a constant number of queries."""

    items = list(deliverables) if deliverables is not None else run_deliverables(run)
    progress = run_progress(run)
    meta = _meta(run, items)
    envelope = {
        "status": run.status,
        "module": run.module,
        "run_id": str(run.run_id),
        "progress": progress,
        "meta": meta,
        "deliverables": [deliverable_payload(d) for d in items],
        "raw": {},
        "error": run.error if run.status == "FAILED" else None,
    }
    assert_valid_envelope(envelope)
    return envelope


def _meta(run, items: list) -> dict[str, Any]:
    if run.is_terminal or not items:
        provider, model, tokens, cost = run.provider, run.model, run.tokens_used, run.cost_usd
    else:  # in flight: show what the finished deliverables used so far
        (provider, model), _ = Counter(
            (d.metadata.get("provider"), d.metadata.get("model")) for d in items
        ).most_common(1)[0]
        tokens = sum(d.metadata.get("tokens_used") or 0 for d in items)
        costs = [d.metadata.get("cost_usd") for d in items]
        cost = None if any(c is None for c in costs) else sum(costs)
    stamp: datetime = run.finished_at or run.created_at or timezone.now()
    return {
        "timestamp": stamp.isoformat(),
        "provider": provider or "none",
        "model": model or "",
        "cost_usd": float(cost) if cost is not None else None,
        "tokens_used": int(tokens or 0),
        "warnings": list(run.warnings),
        "trace_id": run.trace_id,
    }


def deliverable_payload(deliverable) -> dict[str, Any]:
    revision = deliverable.current_revision
    images = getattr(deliverable, "image_assets", [])
    metadata = {key: value for key, value in deliverable.metadata.items() if key != "slot"}
    return {
        "id": str(deliverable.pk),
        "kind": deliverable.kind,
        "title": revision.title or deliverable.title,
        "content_markdown": revision.content_markdown,
        "platform": deliverable.platform,
        "hashtags": list(revision.hashtags),
        "status": deliverable.status,
        "version": deliverable.version,
        "assets": {
            "image_url": images[0].url if images else None,
            "image_base64": None,
            "file_url": None,
            "slides": None,
        },
        "metadata": metadata,
    }


def failed_envelope(
    *,
    module: str,
    error_type: str,
    message: str,
    trace_id: str,
    details: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """An envelope for a request that never became a run (bad input, queue down before saving)."""
    error: dict[str, Any] = {"type": error_type, "message": message, "trace_id": trace_id}
    if details:
        error["details"] = details
    envelope = {
        "status": "FAILED",
        "module": module,
        "run_id": run_id or str(uuid.uuid4()),
        "progress": {"done": 0, "total": 0},
        "meta": {
            "timestamp": timezone.now().isoformat(),
            "provider": "none",
            "model": "",
            "cost_usd": None,
            "tokens_used": 0,
            "warnings": [],
            "trace_id": trace_id,
        },
        "deliverables": [],
        "raw": {},
        "error": error,
    }
    assert_valid_envelope(envelope)
    return envelope


# --- validating --------------------------------------------------------------------------------------------


def validate_envelope(data: Any) -> list[str]:
    """Every problem with an envelope, in plain words; an empty list means it keeps the contract."""
    if not isinstance(data, Mapping):
        return ["the envelope must be a JSON object"]
    problems: list[str] = []
    status = data.get("status")
    if status not in STATUSES:
        problems.append(f"status must be one of {', '.join(STATUSES)}")
    if not _nonblank(data.get("module")):
        problems.append("module must be a non-empty string")
    if not _nonblank(data.get("run_id")):
        problems.append("run_id must be a non-empty string")
    problems += _progress_problems(data.get("progress"))
    problems += _meta_problems(data.get("meta"))
    deliverables = data.get("deliverables")
    if not isinstance(deliverables, list):
        problems.append("deliverables must be a list")
        deliverables = []
    for i, item in enumerate(deliverables):
        problems += [f"deliverables[{i}].{p}" for p in _deliverable_problems(item)]
    if not isinstance(data.get("raw", {}), Mapping):
        problems.append("raw must be an object")

    error = data.get("error")
    if status == "SUCCESS" and not deliverables:
        problems.append("a SUCCESS must have at least one deliverable")
    if status == "PARTIAL":
        if not deliverables:
            problems.append("a PARTIAL must have at least one deliverable")
        meta = data.get("meta")
        if isinstance(meta, Mapping) and not meta.get("warnings"):
            problems.append("a PARTIAL must list its failed deliverables in meta.warnings")
    if status == "FAILED":
        if not isinstance(error, Mapping):
            problems.append("a FAILED must have error {type, message, trace_id}")
        else:
            if error.get("type") not in ERROR_TYPES:
                problems.append(f"error.type must be one of {', '.join(ERROR_TYPES)}")
            if not _nonblank(error.get("message")):
                problems.append("error.message must be a non-empty string")
            if not _nonblank(error.get("trace_id")):
                problems.append("error.trace_id must be a non-empty string")
    elif error is not None:
        problems.append("error must be null unless the status is FAILED")
    return problems


def assert_valid_envelope(data: Any) -> None:
    problems = validate_envelope(data)
    if problems:
        raise EnvelopeError(problems)


def _nonblank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _progress_problems(progress: Any) -> list[str]:
    if not isinstance(progress, Mapping):
        return ["progress must be an object {done, total}"]
    done, total = progress.get("done"), progress.get("total")
    if not (isinstance(done, int) and isinstance(total, int) and 0 <= done <= total):
        return ["progress.done and progress.total must be whole numbers with 0 ≤ done ≤ total"]
    return []


def _meta_problems(meta: Any) -> list[str]:
    if not isinstance(meta, Mapping):
        return ["meta must be an object"]
    problems = []
    try:
        datetime.fromisoformat(str(meta.get("timestamp")))
    except ValueError:
        problems.append("meta.timestamp must be ISO 8601")
    if not _nonblank(meta.get("provider")):
        problems.append('meta.provider must be set ("none" before any call)')
    if not isinstance(meta.get("tokens_used"), int) or meta["tokens_used"] < 0:
        problems.append("meta.tokens_used must be a whole number ≥ 0")
    cost = meta.get("cost_usd")
    if cost is not None and (not isinstance(cost, int | float) or cost < 0):
        problems.append("meta.cost_usd must be a number ≥ 0 or null")
    if not isinstance(meta.get("warnings"), list) or not all(isinstance(w, str) for w in meta["warnings"]):
        problems.append("meta.warnings must be a list of strings")
    if not _nonblank(meta.get("trace_id")):
        problems.append("meta.trace_id must be a non-empty string")
    return problems


def _deliverable_problems(item: Any) -> list[str]:
    if not isinstance(item, Mapping):
        return ["must be an object"]
    problems = []
    for key in ("id", "kind"):
        if not _nonblank(item.get(key)):
            problems.append(f"{key} must be a non-empty string")
    if not isinstance(item.get("title"), str):
        problems.append("title must be a string")
    if not _nonblank(item.get("content_markdown")):
        problems.append("content_markdown must have content (never empty)")
    if item.get("platform") is not None and not isinstance(item.get("platform"), str):
        problems.append("platform must be a string or null")
    if not isinstance(item.get("hashtags"), list):
        problems.append("hashtags must be a list")
    if item.get("status") not in DELIVERABLE_STATUSES:
        problems.append(f"status must be one of {', '.join(DELIVERABLE_STATUSES)}")
    if not isinstance(item.get("version"), int) or item["version"] < 1:
        problems.append("version must be a whole number ≥ 1")
    assets = item.get("assets")
    if not isinstance(assets, Mapping) or set(assets) != set(ASSET_KEYS):
        problems.append(f"assets must be an object with {', '.join(ASSET_KEYS)}")
    if not isinstance(item.get("metadata"), Mapping):
        problems.append("metadata must be an object")
    return problems
