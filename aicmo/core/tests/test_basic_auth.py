"""HTTP Basic on the API (contract §3), braked by the same failure counter as the log-in form."""

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from deliverables.models import Run

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"  # UserFactory's


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_basic_credentials_authenticate_api_calls(marketer):
    response = APIClient().get("/api/v1/runs/", **basic("marketer", PASSWORD))

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_wrong_password_and_no_credentials_answer_401(marketer):
    wrong = APIClient().get("/api/v1/runs/", **basic("marketer", "not-it"))
    anonymous = APIClient().get("/api/v1/runs/")

    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Invalid username/password."
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"


def test_repeated_failures_lock_basic_auth_and_the_login_form_alike(marketer, outsider, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient()
    codes = [client.get("/api/v1/runs/", **basic("marketer", f"guess-{i}")).status_code for i in range(3)]

    locked = client.get("/api/v1/runs/", **basic("marketer", PASSWORD))
    generate = client.post(
        "/api/v1/campaigns/generate", {"campaign_name": "X"}, format="json", **basic("marketer", PASSWORD)
    )
    form = Client().post("/accounts/login/", {"username": "marketer", "password": PASSWORD})
    elsewhere = APIClient().get("/api/v1/runs/", REMOTE_ADDR="203.0.113.9", **basic("marketer", PASSWORD))

    assert codes == [401, 401, 429]  # the limit-th failure locks the address
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(settings.AICMO_LOGIN_WINDOW_S + 1)  # DRF rounds a wait up, plus one
    assert generate.status_code == 429
    assert generate.json()["status"] == "FAILED"
    assert generate.json()["error"]["type"] == "RATE_LIMIT"
    assert generate.json()["error"]["message"].startswith("Too many failed log-ins from your address")
    assert Run.objects.count() == 0
    assert form.status_code == 429 and "Too many failed log-ins" in form.content.decode()
    assert elsewhere.status_code == 200  # the address is locked, never the account


def test_login_form_failures_count_against_basic_auth(marketer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        Client().post("/accounts/login/", {"username": "marketer", "password": "wrong"})

    assert APIClient().get("/api/v1/runs/", **basic("marketer", PASSWORD)).status_code == 429


def test_a_success_resets_the_count(marketer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = APIClient()
    client.get("/api/v1/runs/", **basic("marketer", "wrong"))
    assert client.get("/api/v1/runs/", **basic("marketer", PASSWORD)).status_code == 200
    client.get("/api/v1/runs/", **basic("marketer", "wrong"))

    assert client.get("/api/v1/runs/", **basic("marketer", PASSWORD)).status_code == 200
