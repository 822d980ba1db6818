"""The campaign brief page and the brand kit page."""

from decimal import Decimal

import pytest

from aicmo.core.errors import PermissionDenied
from campaigns import services
from campaigns.models import Campaign
from deliverables.models import Run

pytestmark = pytest.mark.django_db


def test_the_form_has_a_labelled_field_for_every_part_of_the_brief(marketer_client):
    html = marketer_client.get("/campaigns/new/").content.decode()

    for name, label in [
        ("campaign_name", "Campaign name"),
        ("objectives", "Objectives"),
        ("budget", "Budget (USD)"),
        ("timeline_days", "Timeline (days)"),
        ("audience", "Audience"),
        ("key_message", "Key message"),
        ("brand", "Brand"),
    ]:
        assert f'<label for="id_{name}">{label}' in html, name
    assert html.count('type="checkbox" name="platforms"') == 7  # six platforms and email
    assert html.count('type="checkbox" name="deliverables"') == 5
    assert '<option value="acme" selected>Acme Coffee Roasters</option>' in html  # the only brand, chosen


def test_a_bad_brief_shows_each_error_beside_its_field_and_starts_nothing(marketer_client):
    response = marketer_client.post(
        "/campaigns/new/",
        {"brand": "acme", "campaign_name": "", "budget": "-5", "timeline_days": "0", "platforms": ["linkedin"]},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert '<ul class="field-errors" id="id_campaign_name_error">' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_campaign_name_error"' in html
    assert '<ul class="field-errors" id="id_budget_error">' in html
    assert "Ensure this value is greater than or equal to 0." in html
    assert '<ul class="field-errors" id="id_timeline_days_error">' in html
    assert 'value="linkedin" id="id_platforms_0" checked' in html  # what was ticked stays ticked
    assert Run.objects.count() == 0 and Campaign.objects.count() == 0


def test_the_api_serializer_rules_reach_the_form(marketer_client):
    """Objectives are one text box on the page but a list of at most 10 for the API's serializer, which
    decides: its message lands beside the box."""
    objectives = "\n".join(f"Objective {i}" for i in range(11))
    response = marketer_client.post(
        "/campaigns/new/", {"brand": "acme", "campaign_name": "Many goals", "objectives": objectives}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert '<ul class="field-errors" id="id_objectives_error">' in html
    assert "Ensure this field has no more than 10 elements." in html
    assert Run.objects.count() == 0


def test_a_brand_of_someone_else_is_refused(marketer_client, other_brand):
    response = marketer_client.post("/campaigns/new/", {"brand": "globex", "campaign_name": "Sneaky"})

    assert response.status_code == 400
    assert "Select a valid choice. globex is not one of the available choices." in response.content.decode()
    assert Run.objects.count() == 0


NOTHING_TO_GENERATE = "Nothing to generate: none of the requested deliverables applies to this brief."


def test_a_brief_with_nothing_to_generate_is_refused_above_the_form(marketer_client):
    """A content calendar needs a social platform: with only email ticked there is nothing to make."""
    response = marketer_client.post(
        "/campaigns/new/",
        {"brand": "acme", "campaign_name": "Inbox only", "platforms": ["email"], "deliverables": ["content_calendar"]},
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [NOTHING_TO_GENERATE]
    assert NOTHING_TO_GENERATE in response.content.decode()
    assert 'value="content_calendar" id="id_deliverables_2" checked' in response.content.decode()
    assert Run.objects.count() == 0 and Campaign.objects.count() == 0


def test_a_run_refused_for_the_role_answers_403_and_leaves_no_campaign(marketer_client, monkeypatch):
    def refuse(**kwargs):
        raise PermissionDenied("Your role does not allow generating.")

    monkeypatch.setattr(services, "run_create", refuse)

    response = marketer_client.post("/campaigns/new/", {"brand": "acme", "campaign_name": "Spring Roast"})

    assert response.status_code == 403
    assert response.context["form"].non_field_errors() == ["Your role does not allow generating."]
    assert "Your role does not allow generating." in response.content.decode()
    assert Run.objects.count() == 0 and Campaign.objects.count() == 0


def test_a_good_brief_starts_the_run_through_the_api_service_and_opens_its_page(
    marketer_client, marketer, run_tasks_inline
):
    with run_tasks_inline():
        response = marketer_client.post(
            "/campaigns/new/",
            {
                "brand": "acme",
                "campaign_name": "Spring Roast",
                "objectives": "Awareness\n\n500 sign-ups\n",
                "platforms": ["linkedin", "email"],
                "budget": "2500.50",
                "timeline_days": "21",
                "audience": "Home baristas",
                "key_message": "Roasted this week",
                "deliverables": ["campaign_brief", "social_posts"],
            },
        )

    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.run_id}/"
    campaign = run.campaign
    assert (
        campaign.name,
        campaign.objectives,
        campaign.platforms,
        campaign.budget,
        campaign.timeline_days,
        campaign.audience,
        campaign.key_message,
        campaign.created_by,
    ) == (
        "Spring Roast",
        ["Awareness", "500 sign-ups"],
        ["linkedin", "email"],
        Decimal("2500.50"),
        21,
        "Home baristas",
        "Roasted this week",
        marketer,
    )
    assert sorted(run.deliverables.values_list("kind", flat=True)) == ["campaign_brief", "linkedin_post"]
    assert run.status == Run.Status.SUCCESS
    assert run.trace_id == response["X-Trace-ID"]


def test_the_brand_kit_page_shows_the_kit_to_members_and_404_to_others(marketer_client, outsider_client, brand):
    brand.voice_examples = ["Good coffee is a small daily luxury."]
    brand.required_disclaimers = ["Contains caffeine."]
    brand.save()

    html = marketer_client.get("/brands/acme/").content.decode()
    assert "<h1>Acme Coffee Roasters</h1>" in html
    assert "“Good coffee is a small daily luxury.”" in html
    assert '<span class="chip chip-danger">cheap</span>' in html
    assert "Contains caffeine." in html
    assert outsider_client.get("/brands/acme/").status_code == 404


def test_field_errors_point_at_the_fields_and_a_refusal_alone_does_not(marketer_client):
    field_error = marketer_client.post("/campaigns/new/", {"campaign_name": ""}).content.decode()
    assert "see the fields marked below" in field_error

    refusal = marketer_client.post(
        "/campaigns/new/",
        {"brand": "acme", "campaign_name": "Only email", "platforms": ["email"], "deliverables": ["content_calendar"]},
    ).content.decode()
    assert "see the fields marked below" not in refusal
