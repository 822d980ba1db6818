"""drf-spectacular post-processing: document answers that come from middleware, for every operation they
apply to, so the schema says what the server really answers (schemathesis checks it)."""

TOO_LARGE = {
    "description": "The body is over AICMO_MAX_REQUEST_BYTES (multipart: AICMO_MAX_UPLOAD_BYTES); refused before "
    "it is read.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DetailError"}}},
}


def document_body_limit(result, generator, request, public):
    """Every operation that takes a body may answer 413 (RequestSizeLimitMiddleware). Generate endpoints
    declare their own 413 (a FAILED envelope), which is kept."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", TOO_LARGE)
    return result
