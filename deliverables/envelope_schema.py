"""The one JSON Schema of the deliverables envelope (contract §4). `envelope.validate_envelope` checks every
envelope the server sends against it, and /api/schema/ publishes it as the `Envelope` component (converted to
OpenAPI 3.0 by `openapi_schema`), so the validator and the API document cannot drift apart.

Each property carries `x-problem`: how the validator says, in plain words, that it is broken. The rules that
join fields (a SUCCESS has deliverables, a FAILED has an error, …) are written in `envelope.py`."""

from copy import deepcopy
from typing import Any

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

_NONBLANK = {"type": "string", "pattern": r"\S"}
_COUNT = {"type": "integer", "minimum": 0}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _text(problem: str) -> dict[str, Any]:
    return {**_NONBLANK, "x-problem": problem}


ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Envelope",
    "description": "What every generate call and every read of a run answers (contract §4).",
    "type": "object",
    "x-problem": "the envelope must be a JSON object",
    "required": ["status", "module", "run_id", "progress", "meta", "deliverables", "error"],
    "properties": {
        "status": {
            "enum": list(STATUSES),
            "x-enum-name": "EnvelopeStatusEnum",
            "x-problem": f"status must be one of {', '.join(STATUSES)}",
        },
        "module": _text("module must be a non-empty string"),
        "run_id": _text("run_id must be a non-empty string"),
        "progress": {
            "type": "object",
            "required": ["done", "total"],
            "properties": {"done": _COUNT, "total": _COUNT},
            "x-problem": "progress.done and progress.total must be whole numbers with 0 ≤ done ≤ total",
        },
        "meta": {
            "type": "object",
            "x-problem": "meta must be an object",
            "required": ["timestamp", "provider", "tokens_used", "warnings", "trace_id"],
            "properties": {
                "timestamp": {"type": "string", "format": "date-time", "x-problem": "meta.timestamp must be ISO 8601"},
                "provider": {
                    **_NONBLANK,
                    "description": 'The provider that made most deliverables; "none" before any call.',
                    "x-problem": 'meta.provider must be set ("none" before any call)',
                },
                "model": {"type": "string"},
                "cost_usd": {
                    **_nullable({"type": "number", "minimum": 0}),
                    "description": "null when a model has no known price.",
                    "x-problem": "meta.cost_usd must be a number ≥ 0 or null",
                },
                "tokens_used": {**_COUNT, "x-problem": "meta.tokens_used must be a whole number ≥ 0"},
                "warnings": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-problem": "meta.warnings must be a list of strings",
                },
                "trace_id": _text("meta.trace_id must be a non-empty string"),
            },
        },
        "deliverables": {
            "type": "array",
            "x-problem": "deliverables must be a list",
            "items": {
                "type": "object",
                "x-problem": "must be an object",
                "required": [
                    "id",
                    "kind",
                    "title",
                    "content_markdown",
                    "hashtags",
                    "status",
                    "version",
                    "assets",
                    "metadata",
                ],
                "properties": {
                    "id": _text("id must be a non-empty string"),
                    "kind": _text("kind must be a non-empty string"),
                    "title": {"type": "string", "x-problem": "title must be a string"},
                    "content_markdown": _text("content_markdown must have content (never empty)"),
                    "platform": {**_nullable({"type": "string"}), "x-problem": "platform must be a string or null"},
                    "hashtags": {"type": "array", "items": {"type": "string"}, "x-problem": "hashtags must be a list"},
                    "status": {
                        "enum": list(DELIVERABLE_STATUSES),
                        "x-enum-name": "DeliverableStatusEnum",
                        "x-problem": f"status must be one of {', '.join(DELIVERABLE_STATUSES)}",
                    },
                    "version": {"type": "integer", "minimum": 1, "x-problem": "version must be a whole number ≥ 1"},
                    "assets": {
                        "type": "object",
                        "required": list(ASSET_KEYS),
                        "additionalProperties": False,
                        "properties": {
                            "image_url": {
                                **_nullable({"type": "string"}),
                                "description": "Served only to members of the brand.",
                            },
                            "image_base64": _nullable({"type": "string"}),
                            "file_url": _nullable({"type": "string"}),
                            "slides": {},
                        },
                        "x-problem": f"assets must be an object with {', '.join(ASSET_KEYS)}",
                    },
                    "metadata": {
                        "type": "object",
                        "description": "provider, model, tokens_used, cost_usd and the kind's own fields.",
                        "x-problem": "metadata must be an object",
                    },
                },
            },
        },
        "raw": {"type": "object", "x-problem": "raw must be an object"},
        "error": {
            "description": "Set only when the status is FAILED.",
            "anyOf": [
                {
                    "type": "object",
                    "required": ["type", "message", "trace_id"],
                    "properties": {
                        "type": {
                            "enum": list(ERROR_TYPES),
                            "x-enum-name": "ErrorTypeEnum",
                            "x-problem": f"error.type must be one of {', '.join(ERROR_TYPES)}",
                        },
                        "message": _text("error.message must be a non-empty string"),
                        "trace_id": _text("error.trace_id must be a non-empty string"),
                        "details": {"type": "object", "description": "Per field, for a VALIDATION_ERROR."},
                    },
                },
                {"type": "null"},
            ],
        },
    },
}


def openapi_components(schema: dict[str, Any] = ENVELOPE_SCHEMA) -> dict[str, dict[str, Any]]:
    """The schema as OpenAPI 3.0 components: `Envelope`, and each enum marked `x-enum-name` as a component of
    its own (so generated clients get named enum types). `anyOf [X, null]` becomes `X` with `nullable: true`,
    and the keys only JSON Schema knows ($schema, x-problem) go."""
    components: dict[str, dict[str, Any]] = {}

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: value for key, value in node.items() if key not in ("$schema", "x-problem")}
        if "x-enum-name" in node:
            name = node.pop("x-enum-name")
            components[name] = {"type": "string", "enum": list(node.pop("enum"))}
            return (
                {**node, "allOf": [{"$ref": f"#/components/schemas/{name}"}]}
                if node
                else {"$ref": f"#/components/schemas/{name}"}
            )
        options = node.get("anyOf")
        if options and {"type": "null"} in options and len(options) == 2:
            other = next(option for option in options if option != {"type": "null"})
            node = {**{k: v for k, v in node.items() if k != "anyOf"}, **convert(other), "nullable": True}
        return {key: convert(value) for key, value in node.items()}

    components["Envelope"] = convert(deepcopy(schema))
    return components
