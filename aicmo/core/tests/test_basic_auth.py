"""HTTP Basic on the API (contract §3), braked by the same lockout as the log-in form (django-axes)."""

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
    limit = settings.AXES_FAILURE_LIMIT
    client = APIClient()
    codes = [client.get("/api/v1/runs/", **basic("marketer", f"guess-{i}")).status_code for i in range(limit)]

    locked = client.get("/api/v1/runs/", **basic("marketer", PASSWORD))
    generate = client.post(
        "/api/v1/campaigns/generate", {"campaign_name": "X"}, format="json", **basic("marketer", PASSWORD)
    )
    form = Client().post("/accounts/login/", {"username": "marketer", "password": PASSWORD})
    other_user = client.get("/api/v1/runs/", **basic("outsider", PASSWORD))  # the address is locked, not the name

    assert codes == [401] * (limit - 1) + [429]  # the failure that reaches the limit locks at once
    seconds = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert (locked.status_code, locked["Retry-After"]) == (429, seconds)
    assert locked.json()["code"] == "throttled"
    assert locked.json()["detail"].startswith("Too many failed log-ins from your address.")
    assert generate.status_code == 429
    assert Run.objects.count() == 0
    assert form.status_code == 429 and "Too many failed log-ins" in form.content.decode()
    assert other_user.status_code == 429


def test_login_form_failures_count_against_basic_auth(marketer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": "marketer", "password": "wrong"})

    assert APIClient().get("/api/v1/runs/", **basic("marketer", PASSWORD)).status_code == 429
