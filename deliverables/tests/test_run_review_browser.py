"""A whole run sent to a client, in a real browser (Debian's chromium through Playwright): the manager presses
"Send run for client review" on the run page and copies the link; the client, in a fresh browser context with no
account, requests changes on one deliverable, then approves the rest at once; the link is then used (410).
Screenshots go to test-output/screenshots/run-review-*.png."""

import pytest

from aicmo.testing.browser import screenshot
from deliverables.models import Deliverable, ReviewLink

from .review_helpers import generate_campaign, of_kind
from .test_rewrite_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_reviews_a_whole_run_without_an_account(browser, live_server, marketer, manager, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])  # five deliverables
    run.deliverables.update(status=Deliverable.Status.IN_REVIEW)
    post = of_kind(run, "linkedin_post")
    base = live_server.url

    page = log_in(browser, base, "manager")
    page.goto(f"{base}/runs/{run.run_id}/")
    page.get_by_role("button", name="Send run for client review").click()
    url = page.locator("[data-review-url]").input_value()
    assert url.startswith(f"{base}/r/")
    assert page.url == f"{base}/runs/{run.run_id}/"  # the address bar is back on the run page

    client = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    client.set_default_timeout(15_000)
    client.goto(url)
    assert client.get_by_role("heading", name=post.revisions.get(version=1).title).is_visible()
    card = client.locator(f'[data-review-item="{post.pk}"]')
    card.get_by_label("Your name").fill("Dana Client")
    card.get_by_label("Comment").fill("Mention the winter blend.")
    card.get_by_role("button", name="Request changes").click()
    client.locator("[data-decided]").wait_for()
    assert client.locator(f'[data-review-item="{post.pk}"] [data-item-decided]').is_visible()
    screenshot(client, "run-review-one-decided", full_page=True)

    everything = client.locator("section", has=client.get_by_role("heading", name="Decide everything still open"))
    everything.get_by_label("Your name").fill("Dana Client")
    everything.get_by_role("button", name="Approve all").click()
    client.get_by_role("heading", name="Thank you, Dana Client").wait_for()
    screenshot(client, "run-review-done")

    assert Deliverable.objects.get(pk=post.pk).status == "changes_requested"
    items = ReviewLink.objects.filter(run_link__isnull=False)
    assert items.filter(decision="approved").count() == run.deliverables.count() - 1
    assert client.goto(url).status == 410
