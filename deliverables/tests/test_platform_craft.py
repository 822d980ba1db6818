"""Per-platform craft, every piece within its limit at first save, no invented facts, required disclaimers:
for the offline provider and through the official SDKs against the fake server answering too long."""

import re
from decimal import Decimal

import pytest

from aicmo.llm.textfit import cut_at_boundary, fit_with_tail
from aicmo.testing.fake_llm_server import long_text
from campaigns.services import campaign_generate
from deliverables.models import Deliverable, ProviderCall, Run
from deliverables.platforms import PLATFORMS, post_length
from deliverables.quality import evaluate

pytestmark = pytest.mark.django_db

DISCLAIMER = "Offer valid while stocks last."
BRIEF = {
    "campaign_name": "Spring Roast",
    "objectives": ["Awareness", "Sales"],
    "platforms": list(PLATFORMS),
    "budget": Decimal("4000"),
    "timeline_days": 30,
    "audience": "Urban coffee lovers",
    "key_message": "Our spring roast is here, roasted fresh every two weeks..",
    "deliverables": [],
}


@pytest.fixture
def voiced_brand(brand):
    brand.tone_of_voice = "warm, witty"
    brand.required_disclaimers = [DISCLAIMER]
    brand.save()
    return brand


def generate(user, brand, run_tasks_inline, **brief) -> Run:
    with run_tasks_inline():
        run = campaign_generate(brand=brand, user=user, brief={**BRIEF, **brief}, trace_id="trace-craft")
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS, (run.error, run.warnings)
    return run


def pieces(run: Run) -> dict[str, Deliverable]:
    items = {}
    for deliverable in run.deliverables.all():
        deliverable.current_revision = deliverable.revisions.get(version=deliverable.version)
        items[deliverable.kind] = deliverable
    return items


def assert_within_limits_with_disclaimer(items: dict[str, Deliverable]) -> None:
    for kind, deliverable in items.items():
        revision = deliverable.current_revision
        if deliverable.platform:
            limit = PLATFORMS[deliverable.platform].max_chars
            assert post_length(revision.content_markdown, revision.hashtags) <= limit, kind
        for entry in revision.structured.get("entries") or []:
            assert len(entry["text"]) <= PLATFORMS[entry["platform"]].max_chars, entry
            assert DISCLAIMER in entry["text"], entry
        assert DISCLAIMER in revision.content_markdown, kind
        assert revision.quality["blocking"] == [], (kind, revision.quality)


# --- offline -------------------------------------------------------------------------------------------


def test_offline_pieces_fit_their_limits_and_carry_the_disclaimer(marketer, voiced_brand, run_tasks_inline):
    items = pieces(generate(marketer, voiced_brand, run_tasks_inline))

    assert sorted(items) == sorted(
        ["campaign_brief", "messaging_framework", "content_calendar", "email_copy"] + [f"{p}_post" for p in PLATFORMS]
    )
    assert_within_limits_with_disclaimer(items)
    assert all(d.metadata["provider"] == "offline" for d in items.values())


def test_offline_posts_follow_each_platforms_craft(marketer, voiced_brand, run_tasks_inline):
    posts = {
        d.platform: d.current_revision
        for d in pieces(generate(marketer, voiced_brand, run_tasks_inline)).values()
        if d.platform
    }

    texts = [r.content_markdown for r in posts.values()]
    assert len(set(texts)) == len(PLATFORMS)  # one message, six different posts
    assert len({t.split("\n")[0] for t in texts}) >= 4  # and not one opening line for all
    for key, revision in posts.items():
        platform = PLATFORMS[key]
        assert len(revision.hashtags) == platform.hashtags, key
        if platform.hashtag_style == "lower":
            assert all(tag == tag.lower() for tag in revision.hashtags), key
        else:
            assert any(re.search(r"[A-Z].*[A-Z]", tag) for tag in revision.hashtags), key
        assert revision.hashtags != ["#AcmeCoffeeRoasters", "#SpringRoast"]
    assert "\n\n" not in posts["twitter"].content_markdown.replace(f"\n\n{DISCLAIMER}", "")
    assert posts["linkedin"].content_markdown.count("\n\n") >= 2
    assert "#springroast" in posts["instagram"].hashtags and "#SpringRoast" in posts["linkedin"].hashtags
    tiktok = posts["tiktok"]
    assert tiktok.structured["hook"] and len(tiktok.structured["script"]) >= 3
    assert tiktok.content_markdown.startswith(
        f"Hook (first seconds): {tiktok.structured['hook']}\n\nScript:\n1. 0–3 s: "
    )
    assert f"\n\nCaption: {tiktok.structured['caption']}" in tiktok.content_markdown
    assert posts["threads"].content_markdown.split("\n")[0].endswith("?")  # starts a conversation


def test_offline_copy_shows_the_brand_voice_and_no_template_seams(marketer, voiced_brand, run_tasks_inline):
    voiced_brand.voice_examples = ["Good coffee, no fuss."]
    voiced_brand.save()
    items = pieces(generate(marketer, voiced_brand, run_tasks_inline))
    everything = "\n".join(d.current_revision.content_markdown for d in items.values())

    assert "Plot twist" in everything or "Spoiler alert" in everything  # witty, not the generic hook
    assert "😄" in items["instagram_post"].current_revision.content_markdown  # a warm, witty voice allows emoji
    assert "Good coffee, no fuss." in items["linkedin_post"].current_revision.content_markdown
    assert ".." not in everything.replace("…", "")
    assert not re.search(r"[a-z,:(] Urban coffee lovers", everything)  # lower-cased mid-sentence
    assert "Built for Urban" not in everything and "For Urban" not in everything
    assert "Linkedin" not in everything and "Tiktok" not in everything


def test_formal_voice_gets_no_emoji(marketer, brand, run_tasks_inline):
    brand.tone_of_voice = "formal and precise"
    brand.save()
    items = pieces(generate(marketer, brand, run_tasks_inline))
    posts = "".join(d.current_revision.content_markdown for d in items.values() if d.platform)
    assert not re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", posts)


def test_calendar_entries_never_read_the_same(marketer, voiced_brand, run_tasks_inline):
    calendar = pieces(generate(marketer, voiced_brand, run_tasks_inline, timeline_days=90))["content_calendar"]

    entries = calendar.current_revision.structured["entries"]
    assert len(entries) == 30 * len(PLATFORMS)
    assert len({e["text"] for e in entries}) == len(entries)
    assert {e["platform"] for e in entries} == set(PLATFORMS)


def test_offline_invents_no_figures_and_no_links(marketer, voiced_brand, run_tasks_inline):
    items = pieces(generate(marketer, voiced_brand, run_tasks_inline))
    brief_doc = items["campaign_brief"].current_revision.content_markdown
    split = [int(a.replace(",", "")) for a in re.findall(r"\| \$([\d,]+) \|", brief_doc)]
    assert sum(split) == 4000 and len(split) == len(PLATFORMS) + 1  # amounts from the brief's budget only

    allowed = {4000, *split}
    for kind, deliverable in items.items():
        text = deliverable.current_revision.content_markdown
        assert "%" not in text, kind
        assert "(#)" not in text and "example.com" not in text and "http" not in text, kind  # the kit has no link
        undated = re.sub(r"\d{4}-\d{2}-\d{2}", "", text)
        for number in re.findall(r"\d[\d,]*", undated):
            value = int(number.replace(",", ""))
            assert value <= 30 or value in allowed, (kind, number)  # days of the timeline, or the budget
    assert "set the target" in brief_doc


def test_offline_usage_is_not_counted_as_tokens(marketer, voiced_brand, run_tasks_inline):
    run = generate(marketer, voiced_brand, run_tasks_inline)

    assert run.tokens_used == 0
    calls = ProviderCall.objects.filter(run=run)
    assert calls.count() == 10 and {c.provider for c in calls} == {"offline"}
    assert all(c.tokens_in == 0 and c.tokens_out == 0 for c in calls)


def test_links_come_from_the_brand_kit(marketer, voiced_brand, run_tasks_inline, monkeypatch):
    from brands.models import Brand

    kit = Brand.kit
    monkeypatch.setattr(Brand, "kit", lambda self: {**kit(self), "website_url": "https://acme.test/spring"})
    items = pieces(generate(marketer, voiced_brand, run_tasks_inline))

    assert "[" in items["email_copy"].current_revision.content_markdown
    assert "](https://acme.test/spring)" in items["email_copy"].current_revision.content_markdown
    assert "https://acme.test/spring" in items["linkedin_post"].current_revision.content_markdown
    assert "link in bio" in items["instagram_post"].current_revision.content_markdown
    assert_within_limits_with_disclaimer(items)


# --- through the official SDKs, the fake server answering too long ----------------------------------------


def test_long_model_answers_are_shortened_before_the_first_save(
    marketer, voiced_brand, run_tasks_inline, sdk_providers
):
    sdk_providers.overlong = 1.0  # every post's text twice its platform's limit
    sdk_providers.obey_rate = 1.0  # a shortening request is obeyed

    items = pieces(generate(marketer, voiced_brand, run_tasks_inline))

    assert_within_limits_with_disclaimer(items)
    for kind, deliverable in items.items():
        assert deliverable.metadata["provider"] == "openai", kind
        if deliverable.platform in ("linkedin", "instagram", "twitter", "threads"):  # answered over their limit
            assert deliverable.metadata["shortener"] == {"model_passes": 1, "cut_at_boundary": False}, kind
    sent = [r.body for r in sdk_providers.requests_to("openai")]
    x_first = next(b for b in sent if "Platform: X (Twitter)" in b["messages"][1]["content"])
    schema = x_first["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["text"]["maxLength"] == 280  # the model is asked for the limit
    shorten = [
        b
        for b in sent
        if len(b["messages"]) > 2 and "Rewrite it to at most 266 characters" in b["messages"][-1]["content"]
    ]
    assert len(shorten) == 1 and "Acme Coffee Roasters" in shorten[0]["messages"][0]["content"]  # the brand kit
    # each platform is asked for its own craft: six different tasks, TikTok's with a hook and a script
    tasks = {
        b["messages"][1]["content"]
        for b in sent
        if len(b["messages"]) == 2 and "\nPlatform: " in b["messages"][1]["content"]
    }
    assert len(tasks) == len(PLATFORMS)
    tiktok = next(b for b in sent if "Platform: TikTok" in b["messages"][1]["content"])
    assert {"hook", "script", "text"} <= set(tiktok["response_format"]["json_schema"]["schema"]["properties"])
    assert "Use no emoji." not in tiktok["messages"][1]["content"]  # a warm, witty voice may use a few
    everything = "".join(d.current_revision.content_markdown for d in items.values())
    assert "(#)" not in everything and "example.com" not in everything


def test_a_model_that_never_shortens_is_cut_at_a_boundary(marketer, voiced_brand, run_tasks_inline, sdk_providers):
    sdk_providers.overlong = 1.0
    sdk_providers.obey_rate = 0.0  # every shortening pass still overshoots

    items = pieces(
        generate(
            marketer, voiced_brand, run_tasks_inline, platforms=["twitter", "threads"], deliverables=["social_posts"]
        )
    )

    assert_within_limits_with_disclaimer(items)
    for deliverable in items.values():
        assert deliverable.metadata["shortener"] == {"model_passes": 2, "cut_at_boundary": True}
        body = deliverable.current_revision.content_markdown.replace(f"\n\n{DISCLAIMER}", "")
        assert body.endswith((".", "…", ";"))
        head = body.removesuffix("…")
        assert long_text(2000).startswith(head) and long_text(2000)[len(head)] in " .,;"  # never mid-word
    assert ProviderCall.objects.filter(use_case__endswith=":shorten").count() == 4


def test_shortening_calls_count_in_the_run_totals(marketer, voiced_brand, run_tasks_inline, sdk_providers):
    sdk_providers.overlong = 1.0
    sdk_providers.obey_rate = 1.0

    run = generate(marketer, voiced_brand, run_tasks_inline, platforms=["twitter"], deliverables=["social_posts"])

    calls = ProviderCall.objects.filter(run=run, outcome="ok")
    assert [c.use_case for c in calls.order_by("pk")] == ["twitter_post", "twitter_post:shorten"]
    assert run.tokens_used == sum(c.tokens_in + c.tokens_out for c in calls) > 0


# --- the cutter -----------------------------------------------------------------------------------------------

TEXT = (
    "Meet the new roast from Acme. It is bright, juicy, and made for slow mornings; you will love it. "
    "Come by the shop today and taste it for yourself, with friends."
)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (500, TEXT),
        (120, "Meet the new roast from Acme. It is bright, juicy, and made for slow mornings; you will love it."),
        (60, "Meet the new roast from Acme. It is bright, juicy…"),
        (40, "Meet the new roast from Acme."),
        (20, "Meet the new roast…"),
    ],
)
def test_cutter_cuts_at_sentence_then_clause_then_word(limit, expected):
    assert cut_at_boundary(TEXT, limit) == expected
    assert len(cut_at_boundary(TEXT, limit)) <= limit


def test_cutter_keeps_the_disclaimer_inside_the_limit():
    fitted = fit_with_tail(TEXT + "\n\n" + DISCLAIMER, limit=80, tail=[DISCLAIMER])
    assert fitted == f"Meet the new roast from Acme.\n\n{DISCLAIMER}"
    assert len(fitted) <= 80


# --- the quality gate -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[Discover Spring Roast](#)", "a link to nowhere"),
        ("[Discover Spring Roast]()", "a link to nowhere"),
        ("Discover Spring Roast (#)", "a link to nowhere"),
        ('<a href="#">Shop</a>', "a link to nowhere"),
        ("Order at https://example.com/shop now", "an example.com link"),
        ("Write to hello@example.com", "an example.com link"),
    ],
)
def test_dead_and_example_links_are_blocking_placeholders(text, found):
    report = evaluate(kind="email_copy", title="Email", content_markdown=text, hashtags=[], structured={}, brand={})
    assert [i["code"] for i in report["blocking"]] == ["placeholder"]
    assert found in report["blocking"][0]["message"]


def test_a_real_link_is_no_placeholder():
    report = evaluate(
        kind="email_copy",
        title="Email",
        content_markdown="[Discover Spring Roast](https://acme.test/spring)",
        hashtags=[],
        structured={},
        brand={},
    )
    assert report["blocking"] == []


def test_a_calendar_entry_over_its_limit_blocks():
    entries = [{"date": "2026-03-01", "platform": "twitter", "title": "T", "text": "word " * 60}]
    report = evaluate(
        kind="content_calendar",
        title="C",
        content_markdown="table",
        hashtags=[],
        structured={"entries": entries},
        brand={},
    )
    assert report["blocking"] == [
        {"code": "over_limit", "message": "2026-03-01 X (Twitter) entry: 300 characters, over the limit of 280."}
    ]


# --- the shortening service (what the improve loop calls) ----------------------------------------------------


def _draft(text, hashtags=()):
    from deliverables.kinds import Draft

    return Draft(title="Post", content_markdown=text, hashtags=list(hashtags), structured={})


def _context(kind, platform=None):
    from deliverables.prompts import slot_context

    snapshot = {
        "brand": {"name": "Acme Coffee Roasters", "required_disclaimers": [DISCLAIMER]},
        "brief": {"campaign_name": "Spring Roast", "platforms": [platform] if platform else []},
        "start_date": "2026-03-01",
    }
    return slot_context(snapshot, kind=kind, platform=platform, variant=None)


def test_shorten_without_a_chain_cuts_at_a_boundary_and_keeps_the_disclaimer():
    from deliverables.services.shortening import shorten_with_model

    text = long_text(400)
    result = shorten_with_model(
        kind="twitter_post",
        draft=_draft(text, ["#SpringRoast"]),
        context=_context("twitter_post", "twitter"),
        chain=None,
    )

    assert (result.model_calls, result.cut) == (0, True)
    assert post_length(result.draft.content_markdown, result.draft.hashtags) <= 266  # 95 % of 280
    assert result.draft.content_markdown.endswith(f"\n\n{DISCLAIMER}") and result.draft.hashtags == ["#SpringRoast"]
    head = result.draft.content_markdown.removesuffix(f"\n\n{DISCLAIMER}")
    assert text.startswith(head.removesuffix("…")) and head.endswith((".", "…"))


def test_shorten_to_a_chosen_limit_through_the_model(sdk_providers):
    from aicmo.llm.registry import get_chain
    from deliverables.services.shortening import shorten_with_model

    sdk_providers.overlong, sdk_providers.obey_rate = 1.0, 1.0
    draft = _draft(long_text(900), ["#SpringRoast"])

    result = shorten_with_model(
        kind="linkedin_post", draft=draft, context=_context("linkedin_post", "linkedin"), chain=get_chain(), limit=400
    )

    assert (result.model_calls, result.cut) == (1, False)
    assert post_length(result.draft.content_markdown, result.draft.hashtags) <= 400
    asked = sdk_providers.requests_to("openai")[-1].body["messages"][-1]["content"]
    assert "Rewrite it to at most 380 characters" in asked and DISCLAIMER in result.draft.content_markdown


def test_shortening_a_document_offline_cuts_it_instead_of_rewriting_it(settings):
    from aicmo.llm.registry import get_chain
    from deliverables.services.shortening import shorten_with_model

    settings.AICMO_LLM_PRIMARY_PROVIDER, settings.AICMO_LLM_FALLBACK_PROVIDERS = "offline", ["offline"]
    text = "## Core message\n\n" + long_text(1500)

    result = shorten_with_model(
        kind="messaging_framework",
        draft=_draft(text),
        context=_context("messaging_framework"),
        chain=get_chain(),
        limit=600,
    )

    assert (result.model_calls, result.cut) == (0, True)
    assert len(result.draft.content_markdown) <= 570
    assert text.startswith(result.draft.content_markdown.removesuffix(f"\n\n{DISCLAIMER}").removesuffix("…"))
