"""Monthly budgets: every call's cost counts against the brand's month; a spent budget refuses generating
(402, BUDGET_EXCEEDED, no provider call), and a run that crosses it mid-way ends PARTIAL."""

from decimal import Decimal

import pytest

from aicmo.testing.fake_llm_server import Reply
from brands.budget import month_spend
from brands.models import Brand, BrandMonthSpend
from deliverables.envelope import validate_envelope
from deliverables.models import ProviderCall, Run

pytestmark = pytest.mark.django_db

ONE_POST = {"campaign_name": "Spring Roast", "platforms": ["linkedin"], "deliverables": ["linkedin_post"]}
TWO_POSTS = {"campaign_name": "Spring Roast", "platforms": ["linkedin", "facebook"], "deliverables": ["social_posts"]}
# gpt-4.1: $2 / $8 per million tokens: 4,000 in + 1,000 out = $0.016 a call.
EXPENSIVE = Reply(usage=(4000, 1000))


@pytest.fixture
def priced(settings, sdk_providers):
    settings.AICMO_OPENAI_MODEL = "gpt-4.1"
    return sdk_providers


def post(client, run_tasks_inline, body):
    with run_tasks_inline():
        return client.post("/api/v1/campaigns/generate?wait=0", body, format="json")


def test_a_budget_of_one_cent_refuses_the_second_run_with_402_and_no_call(
    marketer_api, brand, run_tasks_inline, priced
):
    Brand.objects.filter(pk=brand.pk).update(monthly_budget_usd=Decimal("0.01"))
    priced.enqueue("openai", EXPENSIVE)

    first = post(marketer_api, run_tasks_inline, ONE_POST)
    run = Run.objects.get(run_id=first.json()["run_id"])
    assert run.status == Run.Status.SUCCESS and run.cost_usd == Decimal("0.016")
    assert month_spend(brand.pk) == Decimal("0.016")
    calls, runs, requests = ProviderCall.objects.count(), Run.objects.count(), len(priced.requests_to("openai"))

    second = post(marketer_api, run_tasks_inline, ONE_POST)

    assert second.status_code == 402
    envelope = second.json()
    assert validate_envelope(envelope) == []
    assert envelope["status"] == "FAILED" and envelope["error"]["type"] == "BUDGET_EXCEEDED"
    assert "$0.02 of $0.01" in envelope["error"]["message"]  # 0.016 shown to the cent
    assert (ProviderCall.objects.count(), Run.objects.count()) == (calls, runs)
    assert len(priced.requests_to("openai")) == requests
    assert BrandMonthSpend.objects.get(brand=brand).spent_usd == Decimal("0.016")


def test_a_run_that_crosses_the_budget_ends_partial_with_a_warning(marketer_api, brand, run_tasks_inline, priced):
    Brand.objects.filter(pk=brand.pk).update(monthly_budget_usd=Decimal("0.01"))
    priced.enqueue("openai", EXPENSIVE)

    response = post(marketer_api, run_tasks_inline, TWO_POSTS)

    run = Run.objects.get(run_id=response.json()["run_id"])
    assert run.status == Run.Status.PARTIAL
    assert len(priced.requests_to("openai")) == 1  # the second slot made no call
    failed = run.deliverables.get(generation_status="failed")
    assert failed.error["type"] == "BUDGET_EXCEEDED"
    assert any(w.startswith(f"{failed.kind} failed: This brand's monthly budget is spent") for w in run.warnings)


def test_without_a_budget_spend_is_counted_and_nothing_is_refused(marketer_api, brand, run_tasks_inline, priced):
    priced.enqueue("openai", EXPENSIVE, EXPENSIVE)
    for _ in range(2):
        post(marketer_api, run_tasks_inline, ONE_POST)
    assert list(Run.objects.values_list("status", flat=True)) == ["SUCCESS", "SUCCESS"]
    assert month_spend(brand.pk) == Decimal("0.032")


def test_the_campaign_page_shows_the_refusal_on_the_form(marketer_client, brand, run_tasks_inline, priced):
    Brand.objects.filter(pk=brand.pk).update(monthly_budget_usd=Decimal("0"))
    response = marketer_client.post("/campaigns/new/", {"brand": "acme", "campaign_name": "Spring Roast"})
    assert response.status_code == 402
    assert "monthly budget is spent" in response.content.decode()
    assert not Run.objects.exists() and not priced.requests_to("openai")


def test_the_home_page_shows_spend_against_the_budget(marketer_client, brand):
    Brand.objects.filter(pk=brand.pk).update(monthly_budget_usd=Decimal("5.00"))
    from brands.budget import spend_add

    spend_add(brand.pk, Decimal("1.25"))
    html = marketer_client.get("/").content.decode()
    assert '<td class="small" data-budget="acme">$1.25 of $5.00 ($3.75 left)</td>' in html

    spend_add(brand.pk, Decimal("4.00"))
    html = marketer_client.get("/").content.decode()
    assert "$5.25 of $5.00: spent, generating is paused" in html
