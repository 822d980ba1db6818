"""The run, deliverable, approvals and assets pages: brand scoping, the live progress partial, the review
actions a role may see and take, sanitised content, and a constant number of queries."""

import re
from html.parser import HTMLParser

import pytest

from deliverables.models import AuditEvent, Deliverable, Revision, Run
from deliverables.tests.review_helpers import generate_campaign, generate_creatives, of_kind, set_status, snapshot
from deliverables.views import QUEUE_PAGE_SIZE, RUN_PAGE_SIZE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ALL_PLATFORMS = ["linkedin", "instagram", "twitter", "facebook", "threads", "tiktok"]


class Tags(HTMLParser):
    """Every start tag with its attributes, to check what a page would make active."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def slot_ids(html: str) -> list[str]:
    """The deliverables a run page shows as cards, in order."""
    return re.findall(r'<article class="slot card[^"]*" id="slot-([0-9a-f-]{36})"', html)


def buttons(html: str) -> set[str]:
    """The formaction paths of the submit buttons on a page."""
    return {attrs["formaction"] for tag, attrs in tags_of(html) if tag == "button" and "formaction" in attrs}


# --- the run page -----------------------------------------------------------------------------------------------


def test_run_page_shows_every_deliverable_with_its_provider_and_a_finished_progress_bar(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])

    response = marketer_client.get(f"/runs/{run.run_id}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<progress id="run-progress" class="progress-success" max="5" value="5"' in html
    assert "5 / 5 done · 100%" in html
    assert html.count('class="slot card slot-done') == 5
    assert html.count('<dd data-provider>offline <span class="chip"') == 5  # each deliverable's provider
    assert "offline-templates-v1" in html
    assert "trace-review" in html
    assert 'hx-trigger="every 1s"' not in html  # a finished run is not polled
    assert "Retry failed deliverables" not in html
    linkedin = of_kind(run, "linkedin_post")
    assert f'href="/deliverables/{linkedin.pk}/"' in html
    assert 'class="post-preview post-linkedin platform-linkedin"' in html


def test_an_in_flight_run_polls_its_live_partial_which_answers_204_until_something_changes(
    marketer_client, marketer, monkeypatch, run_tasks_inline
):
    from deliverables import tasks
    from deliverables.services import deliverable_generate

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda *a, **k: None)  # nothing runs yet
    from campaigns.services import campaign_generate

    run = campaign_generate(
        brand=marketer.brands.get(),
        user=marketer,
        trace_id="trace-live",
        brief={"campaign_name": "Live", "platforms": ["linkedin"]},
    )
    page = marketer_client.get(f"/runs/{run.run_id}/").content.decode()
    state = "PENDING-5-0-0-0"
    assert f'hx-get="/runs/{run.run_id}/live?state={state}" hx-trigger="every 1s" hx-swap="outerHTML"' in page
    assert '<progress id="run-progress" class="progress-pending" max="5" value="0"' in page
    assert page.count("Waiting for a worker") == 5

    unchanged = marketer_client.get(f"/runs/{run.run_id}/live?state={state}", **HTMX)
    assert unchanged.status_code == 204 and unchanged.content == b""

    first = run.deliverables.order_by("position").first()
    deliverable_generate(deliverable_id=str(first.pk))
    partial = marketer_client.get(f"/runs/{run.run_id}/live?state={state}", **HTMX)
    html = partial.content.decode()
    assert partial.status_code == 200
    assert html.startswith('<div id="run-live"')
    assert "<html" not in html
    assert "1 / 5 done · 20%" in html
    assert "state=RUNNING-4-0-1-0" in html and 'hx-trigger="every 1s"' in html
    first.refresh_from_db()
    assert "<dd data-run-provider>offline</dd>" in html  # what the generated slots used so far
    assert f"<dt>Tokens</dt><dd>{first.metadata['tokens_used']:,}</dd>" in html

    for slot in run.deliverables.exclude(pk=first.pk):
        deliverable_generate(deliverable_id=str(slot.pk))
    final = marketer_client.get(f"/runs/{run.run_id}/live?state=RUNNING-4-0-1-0", **HTMX).content.decode()
    assert "5 / 5 done · 100%" in final
    assert "hx-trigger" not in final  # the poll stops: the partial no longer asks for itself
    assert "badge-run-success" in final


def test_the_live_partial_outside_htmx_redirects_to_the_run_page(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    response = marketer_client.get(f"/runs/{run.run_id}/live")
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.run_id}/"


def test_a_failed_run_shows_its_error_and_trace_id_and_offers_retry(
    marketer_client, marketer, run_tasks_inline, settings
):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["offline"]
    from campaigns.services import campaign_generate

    with run_tasks_inline():
        run = campaign_generate(
            brand=marketer.brands.get(),
            user=marketer,
            trace_id="trace-failed-1",
            brief={"campaign_name": "Doomed", "platforms": ["linkedin"]},
        )
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED

    html = marketer_client.get(f"/runs/{run.run_id}/").content.decode()

    assert "The run failed (PROVIDER_ERROR)." in html
    assert "trace-failed-1" in html
    assert run.error["message"] in html
    assert f'action="/runs/{run.run_id}/retry"' in html
    assert "Retry failed deliverables (5)" in html


def test_retry_from_the_run_page_regenerates_the_failed_deliverables(
    marketer_client, marketer, run_tasks_inline, settings
):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["offline"]
    from campaigns.services import campaign_generate

    with run_tasks_inline():
        run = campaign_generate(
            brand=marketer.brands.get(),
            user=marketer,
            trace_id="trace-retry",
            brief={"campaign_name": "Second chance", "platforms": ["linkedin"]},
        )
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = []

    with run_tasks_inline():
        response = marketer_client.post(f"/runs/{run.run_id}/retry")

    assert response.status_code == 302 and response["Location"] == f"/runs/{run.run_id}/"
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCESS
    assert run.error is None
    page = marketer_client.get(response["Location"]).content.decode()
    assert "Retrying 5 failed deliverables." in page
    assert "5 / 5 done · 100%" in page


def test_retry_of_a_successful_run_is_refused_with_a_message_and_changes_nothing(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    events = AuditEvent.objects.count()

    response = marketer_client.post(f"/runs/{run.run_id}/retry", follow=True)

    assert "Only a finished run with failed deliverables can be retried." in response.content.decode()
    assert Run.objects.get(pk=run.pk).status == Run.Status.SUCCESS
    assert AuditEvent.objects.count() == events


def test_someone_elses_run_is_a_404_on_every_run_page(outsider_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    events = AuditEvent.objects.count()

    assert outsider_client.get(f"/runs/{run.run_id}/").status_code == 404
    assert outsider_client.get(f"/runs/{run.run_id}/live", **HTMX).status_code == 404
    assert outsider_client.post(f"/runs/{run.run_id}/retry").status_code == 404
    assert outsider_client.get(f"/runs/{run.run_id}/export?format=md").status_code == 404
    assert AuditEvent.objects.count() == events


def test_pages_need_a_login(client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    deliverable = run.deliverables.first()
    for path in [
        "/",
        f"/runs/{run.run_id}/",
        f"/deliverables/{deliverable.pk}/",
        "/approvals/",
        "/assets/",
        "/campaigns/new/",
        "/creatives/new/",
        "/brands/acme/",
    ]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("platforms", [["linkedin"], ALL_PLATFORMS])
def test_the_run_page_costs_the_same_queries_whatever_the_number_of_deliverables(
    marketer_client, marketer, run_tasks_inline, django_assert_num_queries, platforms
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=platforms)
    assert run.deliverables.count() == 4 + len(platforms)

    # session, user, run (with brand, campaign, requester), slot counts (all of them, one aggregate), the page
    # of slots, their revisions, their images; theme; the user's brand roles; the inbox count
    with django_assert_num_queries(10):
        response = marketer_client.get(f"/runs/{run.run_id}/")
    assert response.status_code == 200
    state = re.search(r'data-run-state="([^"]+)"', response.content.decode()).group(1)
    with django_assert_num_queries(7):
        assert marketer_client.get(f"/runs/{run.run_id}/live?state=x", **HTMX).status_code == 200
    with django_assert_num_queries(4):  # unchanged: session, user, run, slot counts; no slot is loaded
        assert marketer_client.get(f"/runs/{run.run_id}/live?state={state}", **HTMX).status_code == 204


def test_page_two_of_a_long_run_shows_the_next_slots_and_the_progress_bar_still_counts_them_all(
    marketer_client, marketer, run_tasks_inline, django_assert_num_queries
):
    run = generate_creatives(marketer, run_tasks_inline, count=RUN_PAGE_SIZE + 4, with_images=False)  # + 1 post
    in_order = [str(pk) for pk in run.deliverables.order_by("position").values_list("pk", flat=True)]

    first = marketer_client.get(f"/runs/{run.run_id}/").content.decode()
    with django_assert_num_queries(10):  # the same queries as page 1
        second = marketer_client.get(f"/runs/{run.run_id}/?page=2").content.decode()

    assert slot_ids(first) == in_order[:RUN_PAGE_SIZE]
    assert slot_ids(second) == in_order[RUN_PAGE_SIZE:]
    for html in (first, second):
        assert '<progress id="run-progress" class="progress-success" max="30" value="30"' in html
        assert "30 / 30 done · 100%" in html
    assert '<span class="section-count">1–25 of 30</span>' in first and "Page 1 of 2" in first
    assert f'rel="next" href="/runs/{run.run_id}/?page=2">Next</a>' in first and 'rel="prev"' not in first
    assert '<span class="section-count">26–30 of 30</span>' in second and "Page 2 of 2" in second
    assert f'rel="prev" href="/runs/{run.run_id}/">Previous</a>' in second and 'rel="next"' not in second
    assert f'name="next" value="/runs/{run.run_id}/?page=2"' in second  # an export comes back to page 2
    beyond = marketer_client.get(f"/runs/{run.run_id}/?page=9").content.decode()
    assert slot_ids(beyond) == in_order[RUN_PAGE_SIZE:]  # past the end: the last page
    assert slot_ids(marketer_client.get(f"/runs/{run.run_id}/?page=x").content.decode()) == in_order[:RUN_PAGE_SIZE]


def test_a_short_run_has_no_page_navigation(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    html = marketer_client.get(f"/runs/{run.run_id}/").content.decode()
    assert 'class="pagination"' not in html and "section-count" not in html
    assert len(slot_ids(html)) == 5


def test_the_live_partial_of_page_two_keeps_its_page_and_counts_every_slot(marketer_client, marketer, monkeypatch):
    from creatives.services import creatives_generate
    from deliverables import tasks
    from deliverables.services import deliverable_generate

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda *a, **k: None)  # nothing runs yet
    run = creatives_generate(
        brand=marketer.brands.get(),
        user=marketer,
        trace_id="trace-live-2",
        brief={"product": "Cold brew", "platforms": ["instagram"], "count": 29, "with_images": False},
    )  # 29 ads and an Instagram post
    slots = list(run.deliverables.order_by("position"))
    page = marketer_client.get(f"/runs/{run.run_id}/?page=2").content.decode()
    assert f'hx-get="/runs/{run.run_id}/live?state=PENDING-30-0-0-0&amp;page=2"' in page
    assert page.count("Waiting for a worker") == 5

    on_page_two = slots[RUN_PAGE_SIZE + 1]
    deliverable_generate(deliverable_id=str(on_page_two.pk))
    partial = marketer_client.get(f"/runs/{run.run_id}/live?state=PENDING-30-0-0-0&page=2", **HTMX)

    html = partial.content.decode()
    assert partial.status_code == 200 and html.startswith('<div id="run-live"')
    assert slot_ids(html) == [str(s.pk) for s in slots[RUN_PAGE_SIZE:]]  # still page 2
    assert f'id="slot-{on_page_two.pk}" data-kind="ad_copy"' in html
    assert html.count('class="slot card slot-done') == 1 and html.count("Waiting for a worker") == 4
    assert "1 / 30 done · 3%" in html
    assert f'hx-get="/runs/{run.run_id}/live?state=RUNNING-29-0-1-0&amp;page=2"' in html
    assert marketer_client.get(f"/runs/{run.run_id}/live?state=RUNNING-29-0-1-0&page=2", **HTMX).status_code == 204


def test_run_page_cards_show_a_plain_text_excerpt_and_the_deliverable_page_the_whole_text(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    brief = of_kind(run, "campaign_brief")
    Revision.objects.filter(deliverable=brief).update(
        content_markdown=(
            "## Objectives\n- Awareness\n- **Trial**, see [the plan](https://example.com/plan)\n\n"
            "## Audience\nUrban professionals. " + "They want proof. " * 40
        )
    )

    run_page = marketer_client.get(f"/runs/{run.run_id}/").content.decode()
    card = run_page[run_page.index(f'id="slot-{brief.pk}"') :]
    card = card[: card.index("</article>")]
    excerpt = re.search(r'<p class="slot-excerpt">([^<]*)</p>', card).group(1)

    assert excerpt.startswith("Objectives: Awareness · Trial, see the plan · Audience: Urban professionals. They want")
    assert excerpt.endswith("…") and len(excerpt) <= 241
    assert "<h2>" not in card and "example.com" not in card
    detail = marketer_client.get(f"/deliverables/{brief.pk}/").content.decode()
    assert "<h2>Objectives</h2>" in detail and 'href="https://example.com/plan"' in detail
    assert f"<p>Urban professionals. {'They want proof. ' * 39}They want proof.</p>" in detail


# --- the deliverable page ----------------------------------------------------------------------------------------

MALICIOUS = """# Offer

<script>alert("owned")</script>

<img src="x" onerror="alert('img')">

[click me](javascript:alert('link')) and <a href="javascript:alert(2)" onclick="alert(3)">raw</a>

<iframe src="https://evil.example"></iframe>
"""


def make_malicious(deliverable: Deliverable, *, title='<script>alert("t")</script>', hashtags=None) -> None:
    Revision.objects.filter(deliverable=deliverable, version=deliverable.version).update(
        content_markdown=MALICIOUS, title=title, hashtags=hashtags or []
    )


def assert_nothing_active(html: str) -> None:
    for tag, attrs in tags_of(html):
        assert tag not in ("iframe", "object", "embed"), tag
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs  # only our own scripts
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, name, value)


def test_scripts_event_handlers_and_javascript_links_in_content_are_never_active(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    brief = of_kind(run, "campaign_brief")
    post = of_kind(run, "linkedin_post")
    make_malicious(brief)
    make_malicious(post, hashtags=["#ok", '<img src=x onerror="alert(1)">'])

    for path in [f"/deliverables/{brief.pk}/", f"/deliverables/{post.pk}/", f"/runs/{run.run_id}/"]:
        response = marketer_client.get(path)
        assert response.status_code == 200
        html = response.content.decode()
        assert_nothing_active(html)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in html  # the title shows, as text
    preview = marketer_client.post(
        f"/deliverables/{brief.pk}/preview", {"content_markdown": MALICIOUS, "version": 1}, **HTMX
    )
    assert preview.status_code == 200
    assert_nothing_active(preview.content.decode())
    assert "<script>alert" not in preview.content.decode()


def test_a_marketer_sees_amend_and_submit_but_no_approve_button(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")

    html = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()

    assert buttons(html) == {f"/deliverables/{post.pk}/submit"}
    assert f'action="/deliverables/{post.pk}/amend"' in html
    assert "Approve</span>" not in html


def test_a_marketer_posting_approve_anyway_is_refused_and_nothing_changes(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)
    before = snapshot(post)

    response = marketer_client.post(f"/deliverables/{post.pk}/approve", {"comment": "lgtm"})

    assert response.status_code == 403
    assert "Only a manager of this brand may approve its deliverables." in response.content.decode()
    assert snapshot(post) == before
    assert buttons(response.content.decode()) == set()  # in review: a marketer has nothing to press


def test_a_manager_sees_approve_and_request_changes_on_a_deliverable_in_review(
    manager_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)

    html = manager_client.get(f"/deliverables/{post.pk}/").content.decode()

    assert buttons(html) == {f"/deliverables/{post.pk}/approve", f"/deliverables/{post.pk}/reject"}
    assert f'action="/deliverables/{post.pk}/amend"' not in html  # in review: no amending


def test_approval_is_not_offered_while_blocking_quality_issues_remain(manager_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)
    Revision.objects.filter(deliverable=post).update(
        quality={"blocking": [{"code": "banned_word", "message": "Uses the banned word “cheap”."}], "warnings": []}
    )

    html = manager_client.get(f"/deliverables/{post.pk}/").content.decode()
    assert buttons(html) == {f"/deliverables/{post.pk}/reject"}
    assert "Blocking:</strong> Uses the banned word “cheap”." in html

    response = manager_client.post(f"/deliverables/{post.pk}/approve")
    assert response.status_code == 409
    assert Deliverable.objects.get(pk=post.pk).status == Deliverable.Status.IN_REVIEW


def test_submit_then_approve_moves_the_deliverable_and_records_who_did_it(
    marketer_client, manager_client, marketer, manager, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")

    submitted = marketer_client.post(f"/deliverables/{post.pk}/submit", {"comment": "ready"})
    assert submitted.status_code == 302 and submitted["Location"] == f"/deliverables/{post.pk}/"
    approved = manager_client.post(f"/deliverables/{post.pk}/approve", {"comment": "ship it", "next": "/approvals/"})
    assert approved.status_code == 302 and approved["Location"] == "/approvals/"

    assert Deliverable.objects.get(pk=post.pk).status == Deliverable.Status.APPROVED
    events = list(
        AuditEvent.objects.filter(deliverable=post)
        .order_by("created_at")
        .values_list("action", "actor__username", "comment")
    )
    assert events == [("submit", "marketer", "ready"), ("approve", "manager", "ship it")]
    page = manager_client.get(f"/deliverables/{post.pk}/").content.decode()
    assert "ship it" in page and "Approved." in page


def test_requesting_changes_without_a_comment_shows_the_error_beside_the_comment(
    manager_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)
    before = snapshot(post)

    response = manager_client.post(f"/deliverables/{post.pk}/reject", {"comment": "  "})

    html = response.content.decode()
    assert response.status_code == 400
    assert '<ul class="field-errors" id="id_comment_error">' in html
    assert "This field is required to reject." in html
    assert snapshot(post) == before


def test_amend_saves_a_new_version_and_a_stale_one_is_refused_keeping_the_text(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")

    saved = marketer_client.post(
        f"/deliverables/{post.pk}/amend",
        {
            "version": 1,
            "title": "Shorter hook",
            "content_markdown": "Fresh roast, delivered. Order today.",
            "hashtags": "#coffee, coldbrew",
            "note": "tightened",
        },
    )

    assert saved.status_code == 302 and saved["Location"] == f"/deliverables/{post.pk}/"
    revision = Revision.objects.get(deliverable=post, version=2)
    assert (revision.title, revision.content_markdown, revision.hashtags, revision.note, revision.author) == (
        "Shorter hook",
        "Fresh roast, delivered. Order today.",
        ["#coffee", "#coldbrew"],
        "tightened",
        marketer,
    )
    before = snapshot(post)

    stale = marketer_client.post(
        f"/deliverables/{post.pk}/amend", {"version": 1, "content_markdown": "My edit of the old text", "hashtags": ""}
    )

    html = stale.content.decode()
    assert stale.status_code == 409
    assert "Version 2 was saved by marketer while you edited version 1." in html
    assert "<pre data-conflict-theirs>Fresh roast, delivered. Order today.</pre>" in html
    assert "<pre data-conflict-mine>My edit of the old text</pre>" in html
    assert "My edit of the old text</textarea>" in html  # the edit is kept, rebased on version 2
    assert 'name="version" value="2"' in html
    assert snapshot(post) == before

    reapplied = marketer_client.post(
        f"/deliverables/{post.pk}/amend", {"version": 2, "content_markdown": "My edit of the old text", "hashtags": ""}
    )

    assert reapplied.status_code == 302
    assert Revision.objects.get(deliverable=post, version=3).content_markdown == "My edit of the old text"


def test_the_live_preview_renders_the_text_with_its_character_meter_and_checks(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["twitter"])
    post = of_kind(run, "twitter_post")
    text = "Our cheap beans " + "x" * 280

    response = marketer_client.post(
        f"/deliverables/{post.pk}/preview", {"version": 1, "content_markdown": text, "hashtags": "#a #bb"}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="amend-preview"')
    assert 'value="303"' in html and "303 / 280" in html  # 296 + "#a " + "#bb "
    assert "23 over X (Twitter)'s limit" in html
    assert "Uses the banned word “cheap”." in html
    assert Revision.objects.filter(deliverable=post).count() == 1  # a preview writes nothing


def test_revision_history_shows_a_side_by_side_diff_between_two_versions(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")
    original = Revision.objects.get(deliverable=post, version=1).content_markdown
    first_line = original.splitlines()[0]
    marketer_client.post(
        f"/deliverables/{post.pk}/amend",
        {
            "version": 1,
            "content_markdown": original.replace(first_line, "A brand new <b>opening</b> line", 1),
            "hashtags": "",
        },
    )

    page = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()
    assert "Differences from v1 (left) to v2 (right)" in page  # previous vs current by default
    partial = marketer_client.get(f"/deliverables/{post.pk}/diff?a=2&b=1", **HTMX).content.decode()

    assert partial.startswith('<div id="diff"')
    assert "Differences from v2 (left) to v1 (right)" in partial
    assert '<tr class="diff-replace">' in partial
    assert "<del>" in partial and "<ins>" in partial
    assert "&lt;b&gt;opening&lt;/b&gt;" in partial and "<b>opening" not in partial


def test_the_content_calendar_is_a_month_grid_of_entries_coloured_by_platform(
    marketer_client, marketer, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin", "instagram"])
    calendar = of_kind(run, "content_calendar")
    entries = calendar.metadata["entries"]

    html = marketer_client.get(f"/deliverables/{calendar.pk}/").content.decode()

    assert html.count('<table class="cal-month">') == len({e["date"][:7] for e in entries})
    assert html.count('class="cal-entry platform-') == len(entries)
    assert html.count('class="cal-entry platform-linkedin"') == sum(e["platform"] == "linkedin" for e in entries)
    assert html.count(' popover class="cal-popover') == len(entries)
    assert 'popovertarget="cal-entry-0"' in html and 'id="cal-entry-0"' in html
    assert entries[0]["title"] in html


def test_someone_elses_deliverable_is_a_404_on_every_deliverable_page(outsider_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")
    before = snapshot(post)

    assert outsider_client.get(f"/deliverables/{post.pk}/").status_code == 404
    assert (
        outsider_client.post(f"/deliverables/{post.pk}/amend", {"version": 1, "content_markdown": "x"}).status_code
        == 404
    )
    assert outsider_client.post(f"/deliverables/{post.pk}/submit").status_code == 404
    assert (
        outsider_client.post(f"/deliverables/{post.pk}/preview", {"content_markdown": "x"}, **HTMX).status_code == 404
    )
    assert outsider_client.get(f"/deliverables/{post.pk}/diff?a=1&b=1", **HTMX).status_code == 404
    assert snapshot(post) == before


# --- exports ----------------------------------------------------------------------------------------------------


def test_the_export_buttons_download_the_run(manager_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])

    response = manager_client.get(f"/runs/{run.run_id}/export?format=docx")

    assert response.status_code == 200
    assert response["Content-Type"] == ("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert response["Content-Disposition"].startswith('attachment; filename="aicmo_acme_q1-launch_')
    assert response.content[:2] == b"PK"
    assert AuditEvent.objects.filter(run=run, action="export").count() == 1


def test_an_export_with_nothing_approved_goes_back_with_the_reason(manager_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")

    response = manager_client.get(
        f"/runs/{run.run_id}/export?format=md&approved_only=1&next=/deliverables/{post.pk}/", follow=True
    )

    assert response.redirect_chain == [(f"/deliverables/{post.pk}/", 302)]
    assert "Nothing to export: no deliverable of this run is approved yet." in response.content.decode()
    assert AuditEvent.objects.filter(action="export").count() == 0


def test_an_export_never_redirects_off_site(manager_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    response = manager_client.get(f"/runs/{run.run_id}/export?format=md&approved_only=1&next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.run_id}/"


# --- approvals ------------------------------------------------------------------------------------------------


def test_the_approval_queue_lists_in_review_deliverables_of_the_managers_brands(
    manager_client, marketer, outsider, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)
    foreign = generate_campaign(outsider, run_tasks_inline, platforms=["linkedin"])
    set_status(of_kind(foreign, "linkedin_post"), Deliverable.Status.IN_REVIEW)

    html = manager_client.get("/approvals/").content.decode()

    assert html.count('class="button button-small button-primary" href="/deliverables/') == 1
    assert f'href="/deliverables/{post.pk}/"' in html
    assert "Globex" not in html


def test_the_approval_queue_is_for_managers_only(marketer_client):
    response = marketer_client.get("/approvals/")
    assert response.status_code == 403
    assert "Only managers review deliverables." in response.content.decode()


def test_an_empty_approval_queue_says_so(manager_client):
    assert "Nothing is waiting for your review." in manager_client.get("/approvals/").content.decode()


@pytest.mark.parametrize("platforms", [["linkedin"], ALL_PLATFORMS])
def test_the_approval_queue_costs_the_same_queries_whatever_its_length(
    manager_client, marketer, run_tasks_inline, django_assert_num_queries, platforms
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=platforms)
    Deliverable.objects.filter(run=run).update(status=Deliverable.Status.IN_REVIEW)

    # session, user, the user's brand roles, queue length, the page of it, revisions, theme
    with django_assert_num_queries(8):
        response = manager_client.get("/approvals/")
    assert response.content.decode().count(">Review</a>") == 4 + len(platforms)


def test_the_approval_queue_is_paginated_oldest_first_and_names_each_run(
    manager_client, marketer, run_tasks_inline, django_assert_num_queries
):
    run = generate_creatives(marketer, run_tasks_inline, count=QUEUE_PAGE_SIZE + 4, with_images=False)  # + 1 post
    Deliverable.objects.filter(run=run).update(status=Deliverable.Status.IN_REVIEW)
    oldest_first = [
        str(pk) for pk in Deliverable.objects.filter(run=run).order_by("updated_at", "pk").values_list("pk", flat=True)
    ]

    first = manager_client.get("/approvals/").content.decode()
    with django_assert_num_queries(8):  # the same queries as page 1
        second = manager_client.get("/approvals/?page=2").content.decode()

    def reviewed(html):
        return re.findall(r'class="button button-small button-primary" href="/deliverables/([0-9a-f-]{36})/"', html)

    assert reviewed(first) == oldest_first[:QUEUE_PAGE_SIZE]
    assert reviewed(second) == oldest_first[QUEUE_PAGE_SIZE:]
    assert "30 waiting." in first and "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'rel="next" href="/approvals/?page=2">Next</a>' in first
    assert 'rel="prev" href="/approvals/">Previous</a>' in second
    assert second.count('<div class="small muted">Cold brew · run ') == 5  # the brief's product names the run


# --- assets ---------------------------------------------------------------------------------------------------------


def test_the_gallery_shows_saved_ad_concepts_with_images_linking_to_their_deliverables(
    marketer_client, outsider_client, marketer, run_tasks_inline, django_assert_num_queries
):
    run = generate_creatives(marketer, run_tasks_inline, count=2)
    ads = list(run.deliverables.filter(kind="ad_copy").order_by("position"))

    # session, user, brands, count, theme, the user's brand roles, page (with current revision), images
    with django_assert_num_queries(9):
        html = marketer_client.get("/assets/").content.decode()

    images = [attrs for tag, attrs in tags_of(html) if tag == "img"]
    assert len(images) == 2
    assert {img["src"] for img in images} == {asset.url for ad in ads for asset in ad.assets.all()}
    for ad in ads:
        assert f'href="/deliverables/{ad.pk}/"' in html
        assert ad.revisions.get().structured["headline"] in html
    assert "No saved assets yet" in outsider_client.get("/assets/").content.decode()
    foreign = outsider_client.get("/assets/?brand=acme")
    assert foreign.status_code == 404 and "<h1>Nothing here</h1>" in foreign.content.decode()


# --- copy buttons and export buttons ---------------------------------------------------------------------------


def copy_buttons(html: str) -> list[tuple[str, str]]:
    """(aria-label, text to copy) of each copy button of a page."""
    return [(a["aria-label"], a["data-copy"]) for tag, a in tags_of(html) if tag == "button" and "data-copy" in a]


def test_a_post_has_a_copy_button_with_its_text_and_hashtags(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")
    revision = post.revisions.get(version=1)

    detail = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()
    run_page = marketer_client.get(f"/runs/{run.run_id}/").content.decode()

    expected = ("Copy post to the clipboard", f"{revision.content_markdown}\n\n{' '.join(revision.hashtags)}")
    assert copy_buttons(detail) == [expected]
    assert copy_buttons(run_page) == [expected]  # the run page's post card too


def test_an_ad_creative_has_a_copy_button_per_field(marketer_client, marketer, run_tasks_inline):
    run = generate_creatives(marketer, run_tasks_inline, count=1)
    ad = of_kind(run, "ad_copy")
    fields = ad.revisions.get(version=1).structured

    html = marketer_client.get(f"/deliverables/{ad.pk}/").content.decode()

    assert copy_buttons(html) == [
        ("Copy headline to the clipboard", fields["headline"]),
        ("Copy primary text to the clipboard", fields["primary_text"]),
        ("Copy call to action to the clipboard", fields["call_to_action"]),
    ] + [("Copy image prompt to the clipboard", prompt) for prompt in fields["image_prompts"]]


def test_copied_text_is_escaped_in_the_page(marketer_client, marketer, run_tasks_inline):
    from deliverables.services import deliverable_amend

    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = of_kind(run, "linkedin_post")
    deliverable_amend(deliverable=post, actor=marketer, version=1, content_markdown='"><script>alert(1)</script>')

    html = marketer_client.get(f"/deliverables/{post.pk}/").content.decode()

    assert "<script>alert(1)" not in html
    assert copy_buttons(html)[0][1].startswith('"><script>alert(1)</script>')


def test_the_run_page_offers_every_export_format(marketer_client, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])

    html = marketer_client.get(f"/runs/{run.run_id}/").content.decode()

    offered = [a["value"] for tag, a in tags_of(html) if tag == "button" and a.get("name") == "format"]
    assert offered == ["docx", "pdf", "pptx", "ics", "md", "csv", "json", "zip"]
