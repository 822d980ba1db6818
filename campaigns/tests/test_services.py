"""Writes of the campaigns module."""

import pytest

from aicmo.core.errors import ApplicationError
from campaigns import services
from campaigns.models import Campaign
from deliverables.models import Run
from deliverables.services import nothing_to_generate

pytestmark = pytest.mark.django_db


def test_a_refused_run_leaves_no_campaign_behind(marketer, brand, monkeypatch):
    """The campaign and its run are one transaction: when run_create refuses, the campaign is rolled back."""

    def refuse(**kwargs):
        assert Campaign.objects.filter(name="Spring Roast").exists()  # saved just before, in the same transaction
        raise nothing_to_generate()

    monkeypatch.setattr(services, "run_create", refuse)

    with pytest.raises(ApplicationError) as refused:
        services.campaign_generate(
            brand=brand, user=marketer, brief={"campaign_name": "Spring Roast", "platforms": ["linkedin"]}, trace_id="t"
        )

    assert refused.value.message == "Nothing to generate: none of the requested deliverables applies to this brief."
    assert Campaign.objects.count() == 0 and Run.objects.count() == 0
