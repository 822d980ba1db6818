"""Seeded data for the page and export benchmarks: a finished run of N deliverables, rows written directly.

The texts are real drafts: the offline provider answers each kind's request and the kind's own renderer turns
the answer into the title, Markdown, hashtags and structured fields a worker would save; the quality report
is computed by the product's checks. Each ad creative carries an image asset (the offline provider's PNG).
Seeding is idempotent: a brand `bench-pages-<N>` that already holds its run is reused.
"""

from django.db import transaction
from django.utils import timezone

KINDS = [
    "campaign_brief",
    "messaging_framework",
    "content_calendar",
    "linkedin_post",
    "instagram_post",
    "twitter_post",
    "email_copy",
    "ad_copy",
]


def seeded_run(size: int, *, status: str = "in_review"):
    """(run, manager) for a SUCCESS run of `size` deliverables, all in `status`, in a brand of their own, whose
    manager sees exactly these deliverables in the approval queue."""
    from deliverables.models import Deliverable, Run

    from .common import bench_brand, bench_user

    brand = bench_brand(f"bench-pages-{size}")
    manager = bench_user(f"bench-manager-{size}", brand, role="manager")
    run = Run.objects.filter(brand=brand, status=Run.Status.SUCCESS).first()
    if run is not None and Deliverable.objects.filter(run=run).count() == size:
        return run, manager
    Run.objects.filter(brand=brand).delete()
    drafts = _drafts(brand)
    with transaction.atomic():
        run = _create(brand, manager, size, drafts, status)
    return run, manager


def _drafts(brand) -> dict:
    from aicmo.llm.base import IMAGE_SIZES, ImageRequest
    from aicmo.llm.providers.offline import OfflineProvider
    from deliverables.kinds import spec_for
    from deliverables.prompts import deliverable_request
    from deliverables.quality import evaluate

    provider = OfflineProvider()
    context = {
        "module": "campaigns",
        "brand": brand.kit(),
        "start_date": timezone.localdate().isoformat(),
        "brief": {
            "campaign_name": "Autumn launch",
            "objectives": ["Awareness", "Trial"],
            "platforms": ["linkedin", "instagram", "twitter"],
            "timeline_days": 30,
            "audience": "Urban professionals",
            "key_message": "Freshly roasted, delivered weekly",
            "product": "Cold brew",
        },
    }
    drafts = {}
    for kind in KINDS:
        platform = kind.removesuffix("_post") if kind.endswith("_post") else None
        slot_context = {**context, "platform": platform, "variant": None}
        completion = provider.complete(deliverable_request(kind=kind, context=slot_context, trace_id="seed"))
        draft = spec_for(kind).render(completion.data, slot_context)
        quality = evaluate(
            kind=kind,
            title=draft.title,
            content_markdown=draft.content_markdown,
            hashtags=draft.hashtags,
            structured=draft.structured,
            brand=brand.kit(),
        )
        drafts[kind] = (platform, draft, quality)
    prompt = drafts["ad_copy"][1].structured.get("image_prompts", ["A cup of cold brew"])[0]
    image = provider.generate_image(
        ImageRequest(prompt=prompt, size=IMAGE_SIZES["square"], context={"brand_name": brand.name})
    )
    drafts["_image"] = (prompt, image)
    return drafts


def _create(brand, manager, size: int, drafts: dict, status: str):
    from deliverables.models import Deliverable, Run
    from deliverables.services import asset_create, revision_create

    now = timezone.now()
    run = Run.objects.create(
        module="campaigns",
        brand=brand,
        requested_by=manager,
        trace_id="bench-seed",
        status=Run.Status.SUCCESS,
        provider="offline",
        model="offline-templates-v1",
        tokens_used=1000 * size,
        cost_usd=0,
        dispatched_at=now,
        started_at=now,
        finished_at=now,
        input_snapshot={
            "module": "campaigns",
            "brand": brand.kit(),
            "brief": {"campaign_name": "Autumn launch"},
            "start_date": now.date().isoformat(),
        },
    )
    deliverables = []
    for position in range(size):
        kind = KINDS[position % len(KINDS)]
        platform, draft, _quality = drafts[kind]
        metadata = {
            "slot": {"variant": None, "with_image": kind == "ad_copy"},
            **draft.structured,
            "provider": "offline",
            "model": "offline-templates-v1",
            "tokens_used": 1000,
            "cost_usd": 0.0,
            "warnings": [],
        }
        deliverables.append(
            Deliverable(
                run=run,
                position=position,
                kind=kind,
                platform=platform,
                title=draft.title[:240],
                hashtags=draft.hashtags,
                metadata=metadata,
                status=status,
                version=1,
                generation_status=Deliverable.Generation.DONE,
                deliveries=1,
            )
        )
    Deliverable.objects.bulk_create(deliverables)
    prompt, image = drafts["_image"]
    for deliverable in deliverables:  # through the one writer of revisions and of assets, as generation does
        _platform, draft, _quality = drafts[deliverable.kind]
        revision_create(
            deliverable=deliverable,
            version=1,
            title=draft.title,
            content_markdown=draft.content_markdown,
            hashtags=draft.hashtags,
            structured=draft.structured,
            brand_kit=run.input_snapshot["brand"],
            provider="offline",
            model="offline-templates-v1",
            note="Generated",
        )
        if deliverable.kind == "ad_copy":
            asset_create(
                brand_id=brand.pk,
                deliverable=deliverable,
                content=image.png_bytes,
                prompt=prompt,
                size=image.size,
                provider=image.provider,
                model=image.model,
            )
    return run
