"""Every rule of the envelope contract (§4), for every status, against the validator the server runs."""

import copy

import pytest

from deliverables.envelope import EnvelopeError, assert_valid_envelope, failed_envelope, validate_envelope

DELIVERABLE = {
    "id": "d1",
    "kind": "campaign_brief",
    "title": "Brief",
    "content_markdown": "# Brief\n\nText",
    "platform": None,
    "hashtags": [],
    "status": "draft",
    "version": 1,
    "assets": {"image_url": None, "image_base64": None, "file_url": None, "slides": None},
    "metadata": {"provider": "offline"},
}


def envelope(status="SUCCESS", **changes):
    data = {
        "status": status,
        "module": "campaigns",
        "run_id": "3f0c8a8e-1111-4222-8333-944455556666",
        "progress": {"done": 1, "total": 1},
        "meta": {
            "timestamp": "2026-11-22T10:30:00+00:00",
            "provider": "offline",
            "model": "m",
            "cost_usd": 0.0,
            "tokens_used": 12,
            "warnings": [],
            "trace_id": "t-1",
        },
        "deliverables": [copy.deepcopy(DELIVERABLE)],
        "raw": {},
        "error": None,
    }
    data.update(changes)
    return data


FAILED_ERROR = {"type": "PROVIDER_ERROR", "message": "All providers failed", "trace_id": "t-1"}


@pytest.mark.parametrize(
    "data",
    [
        envelope("SUCCESS"),
        envelope(
            "PENDING",
            deliverables=[],
            progress={"done": 0, "total": 3},
            meta={**envelope()["meta"], "provider": "none"},
        ),
        envelope("RUNNING", progress={"done": 1, "total": 3}),
        envelope("PARTIAL", meta={**envelope()["meta"], "warnings": ["email_copy failed: timeout"]}),
        envelope("FAILED", deliverables=[], error=FAILED_ERROR),
    ],
)
def test_valid_envelopes_of_every_status_pass(data):
    assert validate_envelope(data) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"status": "DONE"}, "status must be one of"),
        ({"run_id": ""}, "run_id must be a non-empty string"),
        ({"module": None}, "module must be a non-empty string"),
        ({"meta": {**envelope()["meta"], "timestamp": "yesterday"}}, "meta.timestamp must be ISO 8601"),
        ({"meta": {**envelope()["meta"], "provider": ""}}, "meta.provider must be set"),
        ({"meta": {**envelope()["meta"], "tokens_used": -1}}, "meta.tokens_used"),
        ({"meta": {**envelope()["meta"], "cost_usd": "free"}}, "meta.cost_usd"),
        ({"meta": {**envelope()["meta"], "trace_id": ""}}, "meta.trace_id"),
        ({"progress": {"done": 3, "total": 2}}, "progress.done"),
        ({"deliverables": []}, "a SUCCESS must have at least one deliverable"),
        ({"deliverables": [{**DELIVERABLE, "content_markdown": "   "}]}, "content_markdown must have content"),
        ({"deliverables": [{**DELIVERABLE, "content_markdown": ""}]}, "content_markdown must have content"),
        ({"deliverables": [{"id": "d1"}]}, "deliverables[0].kind"),  # a manifest without content
        ({"deliverables": [{**DELIVERABLE, "status": "published"}]}, "deliverables[0].status"),
        ({"deliverables": [{**DELIVERABLE, "assets": {}}]}, "deliverables[0].assets"),
        ({"error": FAILED_ERROR}, "error must be null unless the status is FAILED"),
    ],
)
def test_each_broken_rule_is_reported(change, problem):
    problems = validate_envelope(envelope(**change))
    assert any(problem in p for p in problems), problems


def test_failed_needs_a_typed_error_with_trace_id():
    assert "a FAILED must have error {type, message, trace_id}" in validate_envelope(
        envelope("FAILED", deliverables=[])
    )
    problems = validate_envelope(
        envelope("FAILED", deliverables=[], error={"type": "OOPS", "message": "", "trace_id": ""})
    )
    assert problems == [
        "error.type must be one of VALIDATION_ERROR, PROVIDER_ERROR, RATE_LIMIT, TIMEOUT, "
        "QUEUE_UNAVAILABLE, BUDGET_EXCEEDED, INTERNAL_ERROR",
        "error.message must be a non-empty string",
        "error.trace_id must be a non-empty string",
    ]


def test_partial_lists_its_failures_in_warnings():
    assert validate_envelope(envelope("PARTIAL")) == ["a PARTIAL must list its failed deliverables in meta.warnings"]


def test_non_objects_are_refused():
    assert validate_envelope([]) == ["the envelope must be a JSON object"]
    with pytest.raises(EnvelopeError):
        assert_valid_envelope("SUCCESS")


def test_failed_envelope_for_a_request_that_never_became_a_run():
    data = failed_envelope(
        module="creatives",
        error_type="VALIDATION_ERROR",
        message="bad",
        trace_id="t-9",
        details={"product": ["This field is required."]},
    )
    assert validate_envelope(data) == []
    assert data["run_id"]
    assert data["meta"]["provider"] == "none"
    assert data["error"]["details"] == {"product": ["This field is required."]}


def test_the_validator_and_the_api_document_share_one_schema(marketer_api):
    """/api/schema/ publishes the validator's JSON Schema (as OpenAPI 3.0) as the Envelope component."""
    from deliverables.envelope_schema import openapi_components

    components = marketer_api.get("/api/schema/?format=json").json()["components"]["schemas"]

    assert components["Envelope"] == openapi_components()["Envelope"]
    assert components["Envelope"]["properties"]["error"]["nullable"] is True
    assert components["EnvelopeStatusEnum"]["enum"] == ["PENDING", "RUNNING", "SUCCESS", "PARTIAL", "FAILED"]
