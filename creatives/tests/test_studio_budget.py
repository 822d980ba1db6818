"""The brand's monthly budget also refuses studio (ChatKit assistant) calls: checked before each provider call,
as generate checks before each slot; the marketer is told in the ChatKit stream, and no call is made."""

from decimal import Decimal

import pytest
from chatkit.types import AssistantMessageItem, ErrorEvent

from aicmo.testing.fake_llm_server import Reply
from brands.budget import month_spend
from brands.models import Brand
from creatives.models import StudioItem
from deliverables.models import ProviderCall

from .test_studio_assistant import CONCEPT, add, done_items

pytestmark = pytest.mark.django_db(transaction=True)

# gpt-4.1: $2 / $8 per million tokens: 4,000 in + 1,000 out = $0.016 a call.
EXPENSIVE = (4000, 1000)


@pytest.fixture
def priced(settings, openai_only):
    settings.AICMO_OPENAI_MODEL = "gpt-4.1"
    return openai_only


def test_one_answer_spends_a_one_cent_budget_and_the_next_is_refused(chatkit_as, thread, worker_threads, priced, brand):
    Brand.objects.filter(pk=brand.pk).update(monthly_budget_usd=Decimal("0.01"))
    priced.enqueue(
        "openai", Reply(text="Hello! What product?", stream_chunks=["Hello! ", "What product?"], usage=EXPENSIVE)
    )

    first = chatkit_as(thread.user).stream(add(thread.pk, "hi"))
    assert [i.content[0].text for i in done_items(first) if isinstance(i, AssistantMessageItem)] == [
        "Hello! What product?"
    ]
    assert not [e for e in first if isinstance(e, ErrorEvent)]
    assert ProviderCall.objects.filter(use_case="studio").count() == 1
    assert month_spend(brand.pk) == Decimal("0.016")
    requests, assistant_items = len(priced.requests_to("openai")), StudioItem.objects.filter(type="assistant_message")

    priced.enqueue("openai", Reply(text="This must never be sent.", usage=EXPENSIVE))
    second = chatkit_as(thread.user).stream(add(thread.pk, "cold brew concentrate"))

    errors = [e for e in second if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and errors[0].allow_retry is False
    assert "monthly budget is spent ($0.02 of $0.01 this month)" in errors[0].message
    assert not [i for i in done_items(second) if isinstance(i, AssistantMessageItem)]
    assert ProviderCall.objects.count() == 1  # no provider call, no ProviderCall row
    assert len(priced.requests_to("openai")) == requests
    assert assistant_items.count() == 1
    assert month_spend(brand.pk) == Decimal("0.016")


def test_a_budget_spent_mid_answer_refuses_the_image_tool_and_the_next_round(
    chatkit_as, thread, worker_threads, priced, brand
):
    """The first call spends the budget and asks for an image: the tool is refused without an image call, and
    the follow-up round (another model call) is refused with the budget message."""
    Brand.objects.filter(pk=brand.pk).update(monthly_budget_usd=Decimal("0.01"))
    priced.enqueue(
        "openai",
        Reply(
            text="Saving and drawing.",
            tool_calls=[("save_ad_asset", CONCEPT), ("generate_ad_image", {"prompt": "A glass of cold brew"})],
            usage=EXPENSIVE,
        ),
    )
    events = chatkit_as(thread.user).stream(add(thread.pk, "write it with an image"))

    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and "monthly budget is spent" in errors[0].message
    assert len(priced.requests_to("openai")) == 1
    assert not [r for r in priced.requests if "images" in r.path]
    assert ProviderCall.objects.count() == 1
    hidden = StudioItem.objects.get(thread=thread, type="hidden_context_item").data["content"]
    image_result = next(r for r in hidden["results"] if r["name"] == "generate_ad_image")
    assert "monthly budget is spent" in image_result["content"]
