"""The kinds' JSON Schemas, built from the slot's context as the worker builds it."""

import pytest

from deliverables.kinds import spec_for
from deliverables.platforms import PLATFORMS
from deliverables.tests.review_helpers import generate_campaign

pytestmark = pytest.mark.django_db


def calendar_platforms(schema: dict) -> list[str]:
    return schema["properties"]["entries"]["items"]["properties"]["platform"]["enum"]


def test_the_calendar_offers_only_the_briefs_platforms():
    context = {"brief": {"platforms": ["linkedin", "instagram"]}, "platform": None}

    assert calendar_platforms(spec_for("content_calendar").schema(context)) == ["linkedin", "instagram"]


def test_the_calendar_offers_every_platform_when_the_brief_names_none():
    assert calendar_platforms(spec_for("content_calendar").schema({"brief": {}})) == list(PLATFORMS)


def test_the_calendar_request_of_a_run_carries_the_briefs_platforms(marketer, run_tasks_inline, monkeypatch):
    from aicmo.llm.providers import offline

    schemas = []
    original = offline.OfflineProvider.complete

    def spy(self, request):
        if request.use_case == "content_calendar":
            schemas.append(request.json_schema)
        return original(self, request)

    monkeypatch.setattr(offline.OfflineProvider, "complete", spy)

    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin", "twitter"])

    assert run.input_snapshot["brief"]["platforms"] == ["linkedin", "twitter"]
    assert [calendar_platforms(schema) for schema in schemas] == [["linkedin", "twitter"]]
