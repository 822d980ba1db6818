"""The improve loop and the review fixes on the pages: the Improve card starts a rewrite and shows its progress
until the page reloads with the new version; warnings of an old text do not outlive it; the calendar is
edited entry by entry; submit lists blocking issues first; creatives runs carry the product's name and their
images in the post previews."""

import json
import re

import pytest

from deliverables.models import AuditEvent, Revision, Rewrite
from deliverables.services import deliverable_amend
from deliverables.services.exports import run_export

from .review_helpers import generate_campaign, generate_creatives, of_kind, snapshot

pytestmark = pytest.mark.django_db

LONG = "Our Winter Blend is here, roasted on Monday and in your cup by Friday. " * 4  # 283 characters once stripped


@pytest.fixture
def tweet(marketer, rewrites_inline):
    run = generate_campaign(marketer, rewrites_inline, platforms=["twitter"])
    tweet = of_kind(run, "twitter_post")
    deliverable_amend(deliverable=tweet, actor=marketer, version=1, content_markdown=LONG.strip(), hashtags=[])
    tweet.refresh_from_db()
    return tweet


def test_the_page_offers_every_action_and_shows_progress_until_the_new_version(marketer_client, tweet, rewrites_inline):
    page = marketer_client.get(f"/deliverables/{tweet.pk}/").content.decode()
    for action in ("shorten", "expand", "regenerate", "tone", "translate", "variants"):
        assert f'name="action" value="{action}"' in page
    assert f'hx-post="/deliverables/{tweet.pk}/rewrite"' in page

    with rewrites_inline():
        started = marketer_client.post(
            f"/deliverables/{tweet.pk}/rewrite", {"action": "shorten", "version": 2}, HTTP_HX_REQUEST="true"
        )

    rewrite = Rewrite.objects.get()
    assert started.status_code == 200
    html = started.content.decode()
    assert 'data-rewrite-status="pending"' in html and "Shortening…" in html
    assert f'hx-get="/deliverables/{tweet.pk}/rewrites/{rewrite.pk}" hx-trigger="every 1s"' in html
    finished = marketer_client.get(f"/deliverables/{tweet.pk}/rewrites/{rewrite.pk}", HTTP_HX_REQUEST="true")
    assert finished["HX-Redirect"] == f"/deliverables/{tweet.pk}/"
    reloaded = marketer_client.get(f"/deliverables/{tweet.pk}/").content.decode()
    assert "Shortened: saved as version 3." in reloaded
    shortened = Revision.objects.get(deliverable=tweet, version=3).content_markdown
    assert shortened == "Our Winter Blend is here, roasted on Monday and in your cup by Friday. " * 2 + (
        "Our Winter Blend is here, roasted on Monday and in your cup by Friday."
    )
    assert "char-meter char-ok" in reloaded  # 211 / 280: the meter is green
    assert "over X (Twitter)&#x27;s limit" not in reloaded


def test_a_running_rewrite_shows_its_progress_on_a_reload_and_the_poll_answers_it(marketer_client, tweet):
    marketer_client.post(f"/deliverables/{tweet.pk}/rewrite", {"action": "expand", "version": 2})  # no worker here
    rewrite = Rewrite.objects.get()

    page = marketer_client.get(f"/deliverables/{tweet.pk}/").content.decode()
    poll = marketer_client.get(f"/deliverables/{tweet.pk}/rewrites/{rewrite.pk}", HTTP_HX_REQUEST="true")

    assert 'data-rewrite-status="pending"' in page and "Expanding…" in page
    assert 'name="action" value="shorten"' not in page  # no second rewrite while this one runs
    assert poll.status_code == 200 and "HX-Redirect" not in poll


def test_a_refused_rewrite_comes_back_in_the_card(marketer_client, tweet):
    before = snapshot(tweet)

    answer = marketer_client.post(
        f"/deliverables/{tweet.pk}/rewrite",
        {"action": "shorten", "version": 1, "selection": ""},
        HTTP_HX_REQUEST="true",
    )

    assert answer.status_code == 200  # htmx swaps 2xx only
    assert "Stale version: you amended version 1, but the deliverable is now at version 2." in answer.content.decode()
    assert snapshot(tweet) == before
    assert not Rewrite.objects.exists()


def test_an_outsider_cannot_rewrite_from_the_page(outsider_client, tweet):
    before = snapshot(tweet)

    assert (
        outsider_client.post(f"/deliverables/{tweet.pk}/rewrite", {"action": "shorten", "version": 2}).status_code
        == 404
    )
    assert snapshot(tweet) == before


def test_a_failed_rewrite_says_why_after_the_reload(marketer_client, marketer, rewrites_inline):
    run = generate_campaign(marketer, rewrites_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")
    with rewrites_inline():
        marketer_client.post(
            f"/deliverables/{post.pk}/rewrite", {"action": "translate", "language": "ja", "version": 1}
        )
    rewrite = Rewrite.objects.get()

    marketer_client.get(f"/deliverables/{post.pk}/rewrites/{rewrite.pk}", HTTP_HX_REQUEST="true")
    page = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()

    assert rewrite.status == "pending" or Rewrite.objects.get().status == "failed"
    assert "The translate failed: offline: The offline provider translates only into Spanish, French, German" in page


def test_an_over_limit_warning_clears_everywhere_once_a_revision_fits(marketer_client, marketer, rewrites_inline):
    """Run warnings, the details card and the JSON export all follow the current revision."""
    run = generate_campaign(marketer, rewrites_inline, platforms=["twitter"])
    tweet = of_kind(run, "twitter_post")
    warning = "Still over X (Twitter)'s 280-character limit after one rewrite: shorten it before approval."
    metadata = {**tweet.metadata, "warnings": [warning]}
    type(tweet).objects.filter(pk=tweet.pk).update(metadata=metadata)  # as an over-long generation leaves it
    type(run).objects.filter(pk=run.pk).update(warnings=[f"twitter_post: {warning}"])
    tweet.refresh_from_db()

    deliverable_amend(deliverable=tweet, actor=marketer, version=1, content_markdown="x" * 240, hashtags=[])

    run.refresh_from_db()
    tweet.refresh_from_db()
    assert run.warnings == []
    assert tweet.metadata["warnings"] == []
    envelope = json.loads(run_export(run=run, fmt="json", approved_only=False, actor=marketer).content)
    exported = next(d for d in envelope["deliverables"] if d["kind"] == "twitter_post")
    assert envelope["meta"]["warnings"] == [] and exported["metadata"]["warnings"] == []
    page = marketer_client.get(f"/deliverables/{tweet.pk}/").content.decode()
    assert "Still over" not in page
    assert "slot-warnings" not in page


def test_the_calendar_is_edited_entry_by_entry(marketer_client, marketer, rewrites_inline):
    run = generate_campaign(marketer, rewrites_inline, platforms=["twitter"], timeline_days=7)
    calendar = of_kind(run, "content_calendar")
    first = Revision.objects.get(deliverable=calendar, version=1)
    entries = first.structured["entries"]
    page = marketer_client.get(f"/deliverables/{calendar.pk}/").content.decode()
    assert f'name="entries-TOTAL_FORMS" value="{len(entries) + 1}"' in page  # one blank row to add an entry
    assert 'name="content_markdown"' not in page.split('id="amend"')[1].split("</form>")[0]
    data = {
        "version": 1,
        "title": "Winter calendar",
        "entries-TOTAL_FORMS": len(entries) + 1,
        "entries-INITIAL_FORMS": len(entries),
        "entries-MIN_NUM_FORMS": 0,
        "entries-MAX_NUM_FORMS": 200,
        f"entries-{len(entries)}-date": "2030-01-02",
        f"entries-{len(entries)}-platform": "twitter",
        f"entries-{len(entries)}-title": "New year",
        f"entries-{len(entries)}-text": "A new year of coffee.",
    }
    for i, entry in enumerate(entries):
        data.update({f"entries-{i}-{key}": value for key, value in entry.items()})
    data["entries-0-text"] = "Edited first entry."
    data["entries-1-DELETE"] = "on"

    saved = marketer_client.post(f"/deliverables/{calendar.pk}/amend", data)

    assert saved.status_code == 302
    revision = Revision.objects.get(deliverable=calendar, version=2)
    expected = [
        {**entries[0], "text": "Edited first entry."},
        *entries[2:],
        {"date": "2030-01-02", "platform": "twitter", "title": "New year", "text": "A new year of coffee."},
    ]
    assert revision.structured["entries"] == sorted(expected, key=lambda e: (e["date"], e["platform"]))
    assert revision.content_markdown.startswith("## Winter calendar\n\n| Date | Platform | Title | Copy |")
    assert "| 2030-01-02 | X (Twitter) | New year | A new year of coffee. |" in revision.content_markdown
    calendar.refresh_from_db()
    assert calendar.metadata["entries"] == revision.structured["entries"]


def test_a_bad_calendar_row_is_refused_with_its_number(marketer_client, marketer, rewrites_inline):
    run = generate_campaign(marketer, rewrites_inline, platforms=["twitter"], timeline_days=3)
    calendar = of_kind(run, "content_calendar")
    before = snapshot(calendar)
    data = {
        "version": 1,
        "title": "Cal",
        "entries-TOTAL_FORMS": 1,
        "entries-INITIAL_FORMS": 1,
        "entries-MIN_NUM_FORMS": 0,
        "entries-MAX_NUM_FORMS": 200,
        "entries-0-date": "2030-01-02",
        "entries-0-platform": "twitter",
        "entries-0-title": "",
        "entries-0-text": "Text",
    }

    refused = marketer_client.post(f"/deliverables/{calendar.pk}/amend", data)

    assert refused.status_code == 400
    assert snapshot(calendar) == before


def test_submit_lists_the_blocking_issues_first(marketer_client, tweet):
    before = snapshot(tweet)
    page = marketer_client.get(f"/deliverables/{tweet.pk}/").content.decode()

    assert "Fix 1 blocking issue before submitting:" in page
    assert "283 characters: over X (Twitter)&#x27;s limit of 280." in page
    assert ">Submit for review<" not in page
    refused = marketer_client.post(f"/deliverables/{tweet.pk}/submit", {"comment": ""})
    assert refused.status_code == 409
    assert "Submitting refused: the current revision has blocking quality issues." in refused.content.decode()
    assert snapshot(tweet) == before
    assert not AuditEvent.objects.filter(action="submit").exists()


def test_a_creatives_run_is_named_after_its_product_and_its_posts_show_its_image(
    marketer_client, marketer, rewrites_inline
):
    from campaigns.tests.factories import CampaignFactory

    run = generate_creatives(marketer, rewrites_inline)
    campaign = CampaignFactory(brand=run.brand, name="Spring campaign")
    type(run).objects.filter(pk=run.pk).update(campaign=campaign)
    post = of_kind(run, "instagram_post")
    image = run.deliverables.get(kind="ad_copy").assets.get()

    run_page = marketer_client.get(f"/runs/{run.run_id}/").content.decode()
    post_page = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()

    assert re.search(r"<h1>\s*Cold brew\s*</h1>", run_page)
    assert "Spring campaign" not in run_page.split("<h1>")[1].split("</h1>")[0]
    assert f'<img class="post-media" src="{image.url}"' in post_page
    assert f'<img class="post-media" src="{image.url}"' in run_page
    assert "No image generated" not in post_page
