"""A client that behaves as the seed's `streamlit_backend_client.py` does (shared/seeds/streamlit-backend-wiring.md
§2–§4): `backend_post_json(path, payload, timeout_s=120)` takes the server from `BACKEND_URL` (or
`AICMO_BACKEND_URL`), sends `requests` with only `Content-Type` and `X-Trace-ID` (credentials in the URL become
HTTP Basic, as `requests` does it), treats every status but 200 as a failure, and `validate_response` checks the
seed document's seven contract rules. Nothing in it knows about AICMO beyond what the seed's client knows."""

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests


@dataclass
class BackendResponse:
    success: bool
    status: str
    http_status: int | None
    run_id: str = ""
    module: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    deliverables: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    trace_id: str = ""
    raw_text: str = ""


def _failure(message: str, *, trace_id: str, http_status: int | None = None, raw_text: str = "") -> BackendResponse:
    return BackendResponse(
        success=False,
        status="FAILED",
        http_status=http_status,
        error={"type": "HTTP_ERROR", "message": message, "trace_id": trace_id},
        trace_id=trace_id,
        raw_text=raw_text,
    )


def backend_post_json(path: str, payload: dict[str, Any], timeout_s: float = 120) -> BackendResponse:
    base_url = os.environ.get("BACKEND_URL") or os.environ.get("AICMO_BACKEND_URL")
    trace_id = str(uuid.uuid4())
    if not base_url:
        return _failure("BACKEND_URL not configured", trace_id=trace_id)
    try:
        response = requests.post(
            base_url.rstrip("/") + path,
            json=payload,
            headers={"Content-Type": "application/json", "X-Trace-ID": trace_id},
            timeout=timeout_s,
        )
    except requests.RequestException as error:
        return _failure(f"Cannot connect to backend: {error}", trace_id=trace_id)
    if response.status_code != 200:
        return _failure(
            f"Backend returned HTTP {response.status_code}",
            trace_id=trace_id,
            http_status=response.status_code,
            raw_text=response.text,
        )
    try:
        data = response.json()
    except ValueError:
        return _failure("Backend returned invalid JSON", trace_id=trace_id, http_status=200, raw_text=response.text)
    meta = data.get("meta") or {}
    return BackendResponse(
        success=data.get("status") == "SUCCESS",
        status=data.get("status", ""),
        http_status=200,
        run_id=data.get("run_id") or "",
        module=data.get("module") or "",
        meta=meta,
        deliverables=data.get("deliverables") or [],
        error=data.get("error"),
        trace_id=meta.get("trace_id") or trace_id,
        raw_text=response.text,
    )


def validate_response(response: BackendResponse) -> tuple[bool, str | None]:
    """The seed's contract rules 1–7, in its order."""
    if response.status not in ("SUCCESS", "FAILED", "PARTIAL"):
        return False, f"Invalid status: {response.status!r}"
    if not response.run_id:
        return False, "run_id must be a non-empty string"
    try:
        datetime.fromisoformat(str(response.meta.get("timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        return False, "meta.timestamp must be ISO 8601"
    if not response.meta.get("provider"):
        return False, "meta.provider must be set"
    if response.status == "SUCCESS" and not response.deliverables:
        return False, "SUCCESS status requires non-empty deliverables"
    for deliverable in response.deliverables:
        content = deliverable.get("content_markdown")
        if not isinstance(content, str) or not content.strip():
            return False, f"Deliverable {deliverable.get('id')!r} has empty content_markdown (manifest-only)"
    return True, None
