"""The deliverables envelope (contract §4): how every generate answer and run read looks, how it is built
from the database, and the validator the server runs on every envelope it sends (clients may use it too).
"""

import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import jsonschema_rs
from django.utils import timezone
from jsonschema import Draft202012Validator

from .envelope_schema import ASSET_KEYS, DELIVERABLE_STATUSES, ENVELOPE_SCHEMA, ERROR_TYPES, STATUSES
from .provenance import provenance_of
from .selectors import run_deliverables_and_progress, run_progress

__all__ = ["ASSET_KEYS", "DELIVERABLE_STATUSES", "ERROR_TYPES", "STATUSES", "build_envelope", "validate_envelope"]

_SCHEMA_VALIDATOR = Draft202012Validator(ENVELOPE_SCHEMA)
# The same schema compiled by jsonschema-rs, which says whether an envelope keeps it about thirty times faster
# (a third of a second for the envelope of 500 deliverables); jsonschema still words the problems of one that
# does not.
_FAST_CHECK = jsonschema_rs.validator_for(ENVELOPE_SCHEMA)
_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property")


class EnvelopeError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# --- building ----------------------------------------------------------------------------------------------


def build_envelope(run, *, deliverables: Iterable | None = None) -> dict[str, Any]:
    """The envelope of a run. `deliverables` (generated ones, with `current_revision` and `image_assets`
    attached) can be passed in by selectors that loaded them in a constant number of queries."""

    if deliverables is None:
        items, progress = run_deliverables_and_progress(run)
    else:
        items, progress = list(deliverables), run_progress(run)
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
    if revision is not None:  # who wrote the current text (a person's amend names its editor)
        written = provenance_of(deliverable)
        metadata["written_by"] = {"provider": written.provider, "model": written.model, "edited_by": written.edited_by}
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
    """Every problem with an envelope, in plain words; an empty list means it keeps the contract. The shape is
    checked against the one JSON Schema (envelope_schema.py), then the rules that join fields."""
    if not isinstance(data, Mapping):
        return [ENVELOPE_SCHEMA["x-problem"]]
    problems: list[str] = []
    for error in () if _keeps_schema(data) else _SCHEMA_VALIDATOR.iter_errors(data):
        for leaf in _leaves(error):
            problem = _plain_words(leaf)
            if problem not in problems:
                problems.append(problem)
    problems += [problem for problem in _rule_problems(data) if problem not in problems]
    return problems


def _keeps_schema(data: Mapping) -> bool:
    try:
        return _FAST_CHECK.is_valid(data)
    except (TypeError, ValueError):  # a value JSON has no type for: jsonschema says what is wrong
        return False


def _leaves(error) -> list:
    """The errors to report: an `anyOf` of "X or null" reports why X failed."""
    if error.validator == "anyOf" and error.context:
        concrete = [e for e in error.context if e.schema != {"type": "null"}]
        return [leaf for e in concrete for leaf in _leaves(e)]
    return [error]


def _plain_words(error) -> str:
    """The `x-problem` of the deepest schema node on the error's path that has one, prefixed with the
    deliverable it is about; a missing property reports that property's own problem."""
    node, problem = ENVELOPE_SCHEMA, ENVELOPE_SCHEMA["x-problem"]
    for step in error.absolute_schema_path:
        node = node[step] if isinstance(node, dict | list) else node
        if isinstance(node, dict) and "x-problem" in node:
            problem = node["x-problem"]
    missing = _REQUIRED.match(error.message) if error.validator == "required" else None
    if missing:
        child = error.schema.get("properties", {}).get(missing.group("name"), {})
        problem = child.get("x-problem") or problem  # e.g. a missing asset key: the assets' own problem
    path = list(error.absolute_path)
    if len(path) >= 2 and path[0] == "deliverables":
        return f"deliverables[{path[1]}].{problem}"
    return problem


def _rule_problems(data: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: values that depend on each other."""
    problems = []
    progress = data.get("progress")
    if isinstance(progress, Mapping):
        done, total = progress.get("done"), progress.get("total")
        if isinstance(done, int) and isinstance(total, int) and done > total:
            problems.append(ENVELOPE_SCHEMA["properties"]["progress"]["x-problem"])
    meta = data.get("meta") if isinstance(data.get("meta"), Mapping) else {}
    if "timestamp" in meta:
        try:
            datetime.fromisoformat(str(meta["timestamp"]))
        except ValueError:
            problems.append("meta.timestamp must be ISO 8601")
    status, error = data.get("status"), data.get("error")
    deliverables = data.get("deliverables") if isinstance(data.get("deliverables"), list) else []
    if status in ("SUCCESS", "PARTIAL") and not deliverables:
        problems.append(f"a {status} must have at least one deliverable")
    if status == "PARTIAL" and meta and not meta.get("warnings"):
        problems.append("a PARTIAL must list its failed deliverables in meta.warnings")
    if status == "FAILED" and not isinstance(error, Mapping):
        problems.append("a FAILED must have error {type, message, trace_id}")
    if status != "FAILED" and error is not None:
        problems.append("error must be null unless the status is FAILED")
    return problems


def assert_valid_envelope(data: Any) -> None:
    problems = validate_envelope(data)
    if problems:
        raise EnvelopeError(problems)
