"""11. Shortener: the share of generated pieces within their platform's hard limit at first save, over 100 runs
against the fake server answering deliberately long, and the model calls the shortener needed.

Each run is a campaign with all six social platforms (one post each) and the content calendar, for a brand with
a required disclaimer, generated through the services and the official OpenAI SDK against an in-process fake
server. The fake answers every post's `text` twice as long as its schema's `maxLength`; a shortening request
("at most N characters") is obeyed with probability 0.5 (seeded), else answered 10 % over N. The slots run in
this process (no worker: the figure is about lengths, not speed). "Within the limit" is measured on the first
saved revision (version 1), the text plus its hashtags, and for the calendar on every entry.
"""

from contextlib import ExitStack
from unittest import mock

from .common import FAKE_KEY, Result, median

RUNS = 100
DISCLAIMER = "Offer valid while stocks last."


def run(result: Result) -> None:
    from django.test import override_settings

    from aicmo.testing.fake_llm_server import FakeLLMServer
    from campaigns.services import campaign_generate
    from deliverables.models import Deliverable, Revision
    from deliverables.platforms import PLATFORMS, post_length
    from deliverables.services import planning, slot_worker

    from .common import bench_brand, bench_user, delete_runs

    brand = bench_brand("bench-shortener")
    brand.required_disclaimers = [DISCLAIMER]
    brand.tone_of_voice = "Warm and witty"
    brand.save()
    user = bench_user("bench-shortener", brand)
    delete_runs(brand)
    pieces = within = entries = entries_within = disclaimed = 0
    passes: list[int] = []
    cut = 0
    with ExitStack() as stack:
        fake = stack.enter_context(FakeLLMServer(seed=13, record_requests=False, overlong=1.0, obey_rate=0.5))
        stack.enter_context(
            override_settings(
                OPENAI_API_KEY=FAKE_KEY,
                OPENAI_BASE_URL=fake.openai_base_url,
                AICMO_LLM_PRIMARY_PROVIDER="openai",
                AICMO_LLM_FALLBACK_PROVIDERS=["openai"],  # no other provider: the shortener alone fixes lengths
            )
        )
        stack.enter_context(mock.patch.object(planning, "run_dispatch", lambda **_: True))  # slots run here
        for i in range(RUNS):
            run_ = campaign_generate(
                brand=brand,
                user=user,
                trace_id=f"bench-shortener-{i}",
                brief={
                    "campaign_name": f"Spring Roast {i}",
                    "platforms": list(PLATFORMS),
                    "objectives": ["Awareness"],
                    "key_message": "Our spring roast is here, roasted fresh every two weeks.",
                    "timeline_days": 14,
                    "deliverables": ["social_posts", "content_calendar"],
                },
            )
            for pk in run_.deliverables.values_list("pk", flat=True):
                slot_worker.deliverable_generate(deliverable_id=str(pk))
            for deliverable in Deliverable.objects.filter(run=run_):
                first = Revision.objects.filter(deliverable=deliverable, version=1).first()
                pieces += 1
                if first is None:  # a failed slot counts as not within (it has no text)
                    continue
                disclaimed += DISCLAIMER in first.content_markdown
                if deliverable.platform:
                    within += (
                        post_length(first.content_markdown, first.hashtags) <= PLATFORMS[deliverable.platform].max_chars
                    )
                    shortener = deliverable.metadata.get("shortener")
                    if shortener:
                        passes.append(shortener["model_passes"])
                        cut += bool(shortener["cut_at_boundary"])
                else:
                    ok = True
                    for entry in first.structured.get("entries") or []:
                        entries += 1
                        fits = len(entry["text"]) <= PLATFORMS[entry["platform"]].max_chars
                        entries_within += fits
                        ok &= fits and DISCLAIMER in entry["text"]
                    within += ok
    delete_runs(brand)
    result.figure(
        "within_limit",
        "pieces within their hard limit at first save",
        100.0 * within / pieces,
        unit="%",
        digits=1,
        target="100 %",
        check=lambda v: v >= 100.0,
    )
    result.figure(
        "shortener_calls_median",
        "model calls the shortener needed per over-long post (median)",
        median(passes),
        digits=1,
    )
    result.figure(
        "shortener_calls_max", "… (max)", max(passes) if passes else 0, digits=0, target="≤ 2", check=lambda v: v <= 2
    )
    result.note(
        f"{RUNS} runs, {pieces} pieces ({pieces - RUNS} posts, {RUNS} calendars with {entries} entries (the fake "
        f"writes the schema's minimum), {entries_within} of them within their platform's limit); {len(passes)} posts "
        f"came back over their limit (all but TikTok, whose caption is a small part of its piece) and were "
        f"shortened: {cut} of them by the boundary cutter, two model passes having still been too long"
    )
    result.note(f"required disclaimer present in {disclaimed} of {pieces} pieces")
