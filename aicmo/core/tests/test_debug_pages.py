"""Debug pages of the dev settings cannot leak: no URL list on a 404, no password from any URL or the environment
on an error page."""

import os

import pytest
from django.test import RequestFactory
from django.views.debug import technical_500_response

from aicmo.core.debug import CredentialMaskingFilter, mask_url_passwords

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_debug(settings):
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "aicmo.core.debug.NoUrlListMiddleware"]
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "aicmo.core.debug.CredentialMaskingFilter"
    return settings


def test_a_404_shows_the_sites_page_not_the_url_list(client, dev_debug):
    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "Django tried these URL patterns" not in html
    assert "api/v1/" not in html


def test_passwords_inside_urls_are_masked_wherever_they_sit():
    masked = mask_url_passwords("postgres://aicmo:s3cr3t@db:5432/aicmo and redis://:hunter2@cache:6379/0", "***")
    assert masked == "postgres://aicmo:***@db:5432/aicmo and redis://:***@cache:6379/0"


# The page shows source lines and locals around the failing frame: the secrets are assembled elsewhere.
SECRETS = {name: f"{name}-pass-{'XYZ'}" for name in ("db", "cache", "broker")}


def _configure_secrets(settings, monkeypatch) -> None:
    settings.DATABASE_URL = f"postgres://aicmo:{SECRETS['db']}@db:5432/aicmo"
    settings.CACHES = {"default": {"BACKEND": "x", "LOCATION": f"redis://:{SECRETS['cache']}@cache:6379/0"}}
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:{SECRETS['broker']}@cache:6379/1")


def _error_page(request) -> str:
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        return technical_500_response(request, type(error), error, error.__traceback__).content.decode()


def test_an_error_page_masks_url_passwords_in_settings_and_the_environment(settings, dev_debug, monkeypatch):
    _configure_secrets(settings, monkeypatch)

    page = _error_page(RequestFactory().get("/boom", **dict(os.environ)))

    assert "RuntimeError" in page and "boom" in page  # it is the debug page
    assert [name for name, secret in SECRETS.items() if secret in page] == []
    assert CredentialMaskingFilter.cleansed_substitute in page
