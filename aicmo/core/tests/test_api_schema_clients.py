"""What client generators need from the OpenAPI document (the live generation test is
deliverables/tests/test_integration_openapi_client.py): one spelling per enum value, one content type per request
body, and the Basic scheme the API accepts."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_the_runs_status_filter_lists_each_value_once(schema):
    (status,) = [p for p in schema["paths"]["/api/v1/runs/"]["get"]["parameters"] if p["name"] == "status"]

    assert sorted(status["schema"]["enum"]) == ["FAILED", "PARTIAL", "PENDING", "RUNNING", "SUCCESS"]
    assert len(status["schema"]["enum"]) == 5


def test_every_request_body_is_json_only(schema):
    bodies = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }

    assert bodies  # generate, amend, submit, approve, reject at least
    assert "POST /api/v1/campaigns/generate" in bodies and "PATCH /api/v1/deliverables/{id}" in bodies
    assert {types[0] for types in bodies.values()} == {"application/json"}
    assert {len(types) for types in bodies.values()} == {1}


def test_generate_documents_its_wait_and_prefer(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/campaigns/generate"]["post"]["parameters"]}

    assert parameters["wait"]["in"] == "query"
    assert parameters["wait"]["schema"] == {"type": "number", "minimum": 0, "maximum": 120}
    assert parameters["Prefer"]["in"] == "header"
    assert schema["components"]["securitySchemes"]["basicAuth"] == {"type": "http", "scheme": "basic"}


def test_the_lower_case_status_filter_still_works(marketer_api):
    assert marketer_api.get("/api/v1/runs/?status=success").status_code == 200
    assert marketer_api.get("/api/v1/runs/?status=done").status_code == 400
