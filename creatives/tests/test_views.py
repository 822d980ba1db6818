"""The ad-creatives brief page."""

import pytest

from aicmo.core.errors import PermissionDenied
from campaigns.tests.factories import CampaignFactory
from creatives import services
from deliverables.models import Asset, Run

pytestmark = pytest.mark.django_db


def test_the_form_offers_platforms_variants_images_and_the_brand_campaigns(marketer_client, brand, other_brand):
    mine = CampaignFactory(brand=brand, name="Spring Roast")
    CampaignFactory(brand=other_brand, name="Not yours")

    html = marketer_client.get("/creatives/new/").content.decode()

    assert '<label for="id_product">Product or offer' in html
    assert html.count('type="checkbox" name="platforms"') == 6
    assert '<input type="checkbox" name="with_images" id="id_with_images">' in html
    assert f'<option value="{mine.pk}">Acme Coffee Roasters / Spring Roast</option>' in html
    assert "Not yours" not in html


def test_a_bad_brief_shows_the_errors_beside_the_fields(marketer_client):
    response = marketer_client.post("/creatives/new/", {"brand": "acme", "product": "", "count": "9"})

    html = response.content.decode()
    assert response.status_code == 400
    assert '<ul class="field-errors" id="id_product_error">' in html
    assert '<ul class="field-errors" id="id_count_error">' in html
    assert "Ensure this value is less than or equal to 6." in html
    assert Run.objects.count() == 0


NOTHING_TO_GENERATE = "Nothing to generate: none of the requested deliverables applies to this brief."


def test_posts_without_a_platform_are_refused_above_the_form(marketer_client):
    response = marketer_client.post(
        "/creatives/new/", {"brand": "acme", "product": "Cold brew", "deliverables": ["social_posts"]}
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [NOTHING_TO_GENERATE]
    assert NOTHING_TO_GENERATE in response.content.decode()
    assert Run.objects.count() == 0


def test_a_run_refused_for_the_role_answers_403_with_the_reason(marketer_client, monkeypatch):
    def refuse(**kwargs):
        raise PermissionDenied("Your role does not allow generating.")

    monkeypatch.setattr(services, "run_create", refuse)

    response = marketer_client.post("/creatives/new/", {"brand": "acme", "product": "Cold brew"})

    assert response.status_code == 403
    assert response.context["form"].non_field_errors() == ["Your role does not allow generating."]
    assert "Your role does not allow generating." in response.content.decode()
    assert Run.objects.count() == 0


def test_a_good_brief_with_images_starts_the_run_and_opens_its_page(marketer_client, brand, run_tasks_inline):
    campaign = CampaignFactory(brand=brand, name="Spring Roast")
    with run_tasks_inline():
        response = marketer_client.post(
            "/creatives/new/",
            {
                "brand": "acme",
                "product": "Cold brew",
                "platforms": ["instagram"],
                "count": "2",
                "with_images": "on",
                "tone": "playful",
                "campaign": str(campaign.pk),
            },
        )

    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.run_id}/"
    assert (run.module, run.campaign, run.status) == ("creatives", campaign, Run.Status.SUCCESS)
    assert sorted(run.deliverables.values_list("kind", flat=True)) == ["ad_copy", "ad_copy", "instagram_post"]
    assert run.input_snapshot["brief"]["tone"] == "playful"
    assert Asset.objects.filter(deliverable__run=run).count() == 2
