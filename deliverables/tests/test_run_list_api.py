"""`GET /api/v1/runs/`: the filters `status`, `module` and `brand`, within the user's brands only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from brands.tests.factories import BrandFactory
from deliverables.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(marketer, brand, other_brand) -> dict[str, Run]:
    """The marketer belongs to acme and globex; initech's run is never theirs to see. Newest first: a … e."""
    other_brand.members.add(marketer)
    initech = BrandFactory(name="Initech", slug="initech")
    rows = {
        "a": (brand, "campaigns", Run.Status.SUCCESS),
        "b": (brand, "creatives", Run.Status.FAILED),
        "c": (other_brand, "campaigns", Run.Status.PENDING),
        "d": (other_brand, "studio", Run.Status.SUCCESS),
        "e": (initech, "campaigns", Run.Status.SUCCESS),
    }
    now = timezone.now()
    made = {}
    for age, (name, (run_brand, module, status)) in enumerate(rows.items()):
        run = Run.objects.create(brand=run_brand, module=module, status=status, trace_id=f"trace-{name}")
        Run.objects.filter(pk=run.pk).update(created_at=now - timedelta(minutes=age))  # a distinct, known order
        made[name] = run
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "abcd"),
        ("?status=SUCCESS", "ad"),
        ("?status=failed", "b"),  # any case
        ("?status=PARTIAL", ""),
        ("?module=campaigns", "ac"),
        ("?module=creatives", "b"),
        ("?module=studio", "d"),
        ("?brand=acme", "ab"),
        ("?brand=globex", "cd"),
        ("?brand=initech", ""),  # not a brand of theirs: nothing, not its run
        ("?brand=globex&module=campaigns", "c"),
        ("?status=SUCCESS&brand=acme&module=campaigns", "a"),
    ],
)
def test_each_filter_answers_exactly_the_matching_runs_of_the_users_brands(marketer_api, runs, query, expected):
    response = marketer_api.get(f"/api/v1/runs/{query}")

    assert response.status_code == 200
    body = response.json()
    assert [row["run_id"] for row in body["results"]] == [str(runs[name].run_id) for name in expected]
    assert body["count"] == len(expected)


def test_a_summary_names_the_runs_brand_module_and_status(marketer_api, runs):
    [row] = marketer_api.get("/api/v1/runs/?brand=globex&status=pending").json()["results"]

    assert (row["run_id"], row["brand"], row["module"], row["status"], row["progress"]) == (
        str(runs["c"].run_id),
        "globex",
        "campaigns",
        "PENDING",
        {"done": 0, "total": 0},
    )


@pytest.mark.parametrize(("query", "field"), [("?status=DONE", "status"), ("?module=email", "module")])
def test_an_unknown_filter_value_is_a_400_naming_the_filter(marketer_api, runs, query, field):
    response = marketer_api.get(f"/api/v1/runs/{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]
