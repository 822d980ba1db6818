"""GET /api/v1/assets: the saved ad assets (ad_copy deliverables from the studio and from creatives runs) of the
user's brands, with their current copy and images, in a constant number of queries."""

import pytest

from creatives.studio.concepts import AdConcept, ad_asset_save
from deliverables.envelope import validate_envelope
from deliverables.models import Asset, Deliverable

pytestmark = pytest.mark.django_db

STUDIO_CONCEPT = AdConcept(
    headline="Cafe-strength cold brew in ten seconds",
    primary_text=(
        "Skip the queue and the cafe prices. Acme cold brew concentrate turns a glass of ice and water into "
        "a smooth, bold coffee in ten seconds flat. Roasted in small batches and steeped for eighteen "
        "hours, it tastes like your favourite barista made it, only you did."
    ),
    call_to_action="Shop now",
    image_prompts=(
        "Iced cold brew on a sunlit counter",
        "Hands pouring concentrate over ice",
        "A commuter with cold brew",
    ),
    product="Cold brew concentrate",
    style="bold",
    tone="playful",
    pitch="Cafe-strength coffee at home",
)


def save_concept(thread, *, revise=False, **changes):
    concept = AdConcept(**{**STUDIO_CONCEPT.__dict__, **changes})
    return ad_asset_save(
        thread=thread,
        concept=concept,
        revise=revise,
        provider="offline",
        model="offline-templates-v1",
        trace_id="trace-assets",
    ).deliverable


def test_studio_and_creatives_ad_assets_are_listed_with_their_current_copy(marketer_api, thread, run_tasks_inline):
    studio = save_concept(thread)
    save_concept(thread, revise=True, headline="Ten seconds to cafe-strength cold brew")
    with run_tasks_inline():
        marketer_api.post(
            "/api/v1/creatives/generate",
            {"product": "Espresso beans", "platforms": ["instagram"], "with_images": True},
            format="json",
        )
    creative = Deliverable.objects.get(run__module="creatives", kind="ad_copy")
    image = Asset.objects.get(deliverable=creative)

    response = marketer_api.get("/api/v1/assets")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2  # the Instagram post of the creatives run is not an ad asset
    by_module = {item["module"]: item for item in body["results"]}
    assert by_module["studio"] == {
        "id": str(studio.pk),
        "brand": "acme",
        "module": "studio",
        "run_id": str(studio.run.run_id),
        "studio_thread": str(thread.pk),
        "product": "Cold brew concentrate",
        "style": "bold",
        "tone": "playful",
        "pitch": "Cafe-strength coffee at home",
        "headline": "Ten seconds to cafe-strength cold brew",
        "primary_text": STUDIO_CONCEPT.primary_text,
        "call_to_action": "Shop now",
        "image_prompts": list(STUDIO_CONCEPT.image_prompts),
        "images": [],
        "status": "draft",
        "version": 2,
        "url": f"/deliverables/{studio.pk}/",
        "api_url": f"/api/v1/deliverables/{studio.pk}",
        "created_at": by_module["studio"]["created_at"],
        "updated_at": by_module["studio"]["updated_at"],
    }
    made = by_module["creatives"]
    assert (made["id"], made["product"], made["images"], made["version"], made["studio_thread"]) == (
        str(creative.pk),
        "Espresso beans",
        [f"/assets/{image.pk}/file"],
        1,
        None,
    )
    assert made["headline"] == creative.revisions.get().structured["headline"]
    assert len(made["image_prompts"]) == 3
    assert [item["module"] for item in body["results"]] == ["creatives", "studio"]  # latest change first


def test_assets_are_filtered_by_brand_and_never_leak_to_other_brands(marketer_api, outsider_api, thread):
    save_concept(thread)

    assert marketer_api.get("/api/v1/assets?brand=acme").json()["count"] == 1
    assert marketer_api.get("/api/v1/assets?brand=globex").json()["count"] == 0
    assert outsider_api.get("/api/v1/assets").json()["count"] == 0


def test_anonymous_requests_get_401(client):
    assert client.get("/api/v1/assets").status_code == 401


def test_the_list_costs_the_same_queries_for_one_asset_or_many(marketer_api, thread, django_assert_num_queries):
    save_concept(thread)
    with django_assert_num_queries(3):  # count, page (current revision by subquery), images
        assert marketer_api.get("/api/v1/assets").json()["count"] == 1

    for n in range(4):
        save_concept(thread, headline=f"Concept {n}")
    Asset.objects.bulk_create(
        [Asset(brand=thread.brand, deliverable=d, file="assets/x.png") for d in Deliverable.objects.all()]
    )
    with django_assert_num_queries(3):
        body = marketer_api.get("/api/v1/assets").json()
    assert body["count"] == 5
    assert all(len(item["images"]) == 1 for item in body["results"])


def test_a_studio_run_answers_a_valid_envelope_with_its_concepts(marketer_api, thread):
    first = save_concept(thread)
    save_concept(thread, headline="A second concept")

    envelope = marketer_api.get(f"/api/v1/runs/{first.run.run_id}").json()

    assert validate_envelope(envelope) == []
    assert (envelope["status"], envelope["module"], envelope["progress"]) == (
        "SUCCESS",
        "studio",
        {"done": 2, "total": 2},
    )
    assert [d["metadata"]["headline"] for d in envelope["deliverables"]] == [
        STUDIO_CONCEPT.headline,
        "A second concept",
    ]
    assert envelope["meta"]["provider"] == "offline"
