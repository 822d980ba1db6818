"""Errors outside DRF's views answer JSON on API paths (and the site's pages elsewhere); DRF's own refusals
carry a machine-readable code; list filters refuse values they do not know."""

import pytest
from django.test import RequestFactory

from aicmo.core import handlers


@pytest.mark.django_db
def test_an_api_path_that_matches_no_route_answers_json_404(marketer_api):
    response = marketer_api.get("/api/v1/deliverables/not-a-uuid")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_a_page_that_does_not_exist_answers_the_html_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_drf_refusals_carry_a_code(client, marketer_api):
    assert client.get("/api/v1/runs/").json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert marketer_api.get("/api/v1/runs/00000000-0000-4000-8000-000000000000").json() == {
        "detail": "Not found.",
        "code": "not_found",
    }
    assert marketer_api.delete("/api/v1/runs/").json() == {
        "detail": 'Method "DELETE" not allowed.',
        "code": "method_not_allowed",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field", [("status=bogus", "status"), ("status=", "status"), ("module=poems", "module")]
)
def test_run_list_filters_refuse_unknown_values(marketer_api, query, field):
    response = marketer_api.get(f"/api/v1/runs/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.django_db
def test_run_list_filters_accept_known_values_in_either_case(marketer_api):
    for query in ("status=success", "status=FAILED", "module=creatives"):
        response = marketer_api.get(f"/api/v1/runs/?{query}")
        assert (response.status_code, response.json()["count"]) == (200, 0)


def test_an_unhandled_error_on_an_api_path_answers_json_500_with_the_trace_id():
    request = RequestFactory().get("/api/v1/runs/")
    request.trace_id = "trace-500"

    response = handlers.server_error(request)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"detail": "Internal error.", "code": "internal_error", "trace_id": "trace-500"}'


@pytest.mark.django_db
def test_an_asset_file_path_with_a_bad_id_answers_json_but_the_gallery_stays_a_page(marketer_api, client, marketer):
    response = marketer_api.get("/assets/not-a-uuid/file")
    client.force_login(marketer)
    gallery = client.get("/assets/?page=zzz")

    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "code": "not_found"})
    assert gallery["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["", "0", "abc"])
def test_a_page_that_is_not_a_page_number_answers_404(marketer_api, page):
    response = marketer_api.get(f"/api/v1/runs/?page={page}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/runs/?brand=a%00b", "/api/v1/assets?brand=%00"])
def test_a_nul_character_in_a_filter_answers_400_not_500(marketer_api, path):
    response = marketer_api.get(path)

    assert response.status_code == 400
    assert response.json() == {"detail": "The request contains a NUL character (%00).", "code": "invalid"}


@pytest.mark.django_db
def test_a_nul_character_in_a_parameter_nothing_reads_is_ignored(marketer_api):
    assert marketer_api.get("/api/v1/runs/?x%00=1%00").status_code == 200


def test_a_nul_character_reaching_the_database_from_a_page_answers_400_not_500():
    from django.db import DataError

    from aicmo.core.middleware import NullCharacterMiddleware

    middleware = NullCharacterMiddleware(lambda request: None)
    refused = DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    page = middleware.process_exception(RequestFactory().get("/campaigns/?q=%00"), refused)
    api = middleware.process_exception(RequestFactory().get("/api/v1/runs/?brand=%00"), refused)

    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert (api.status_code, api.content) == (
        400,
        b'{"detail": "The request contains a NUL character (%00).", "code": "invalid"}',
    )
    assert middleware.process_exception(RequestFactory().get("/"), DataError("value too long")) is None


# --- JSON types as the schema declares them --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/campaigns/generate", {"campaign_name": 5}, "campaign_name"),
        ("/api/v1/campaigns/generate", {"campaign_name": "Q1", "timeline_days": "30"}, "timeline_days"),
        ("/api/v1/campaigns/generate", {"campaign_name": "Q1", "platforms": [1]}, "platforms"),
        ("/api/v1/campaigns/generate", {"campaign_name": "Q1", "budget": True}, "budget"),
        ("/api/v1/campaigns/generate", {"campaign_name": "Q1", "brand": 4}, "brand"),
        ("/api/v1/creatives/generate", {"product": "Tea", "tone": 0}, "tone"),
        ("/api/v1/creatives/generate", {"product": "Tea", "count": 2.0}, "count"),
        ("/api/v1/creatives/generate", {"product": "Tea", "with_images": "yes"}, "with_images"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(marketer_api, path, body, field):
    response = marketer_api.post(path, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "budget, saved", [(2500, "2500.00"), (2500.5, "2500.50"), ("2500.50", "2500.50"), (None, None)]
)
def test_a_budget_may_be_a_number_or_a_decimal_string(marketer_api, budget, saved):
    from deliverables.models import Run

    response = marketer_api.post("/api/v1/campaigns/generate", {"campaign_name": "Q1", "budget": budget}, format="json")

    assert response.status_code == 202
    assert Run.objects.get().input_snapshot["brief"]["budget"] == saved
