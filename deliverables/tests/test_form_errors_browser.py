"""In a real browser (Debian's chromium through Playwright): a manager requests changes without a comment; the
browser stays on the deliverable page, showing the error, and a reload opens that page (never an empty 405)."""

import pytest

from deliverables.models import Deliverable

from .review_helpers import generate_campaign, of_kind, set_status, snapshot
from .test_rewrite_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_reject_stays_on_the_deliverable_page_and_survives_a_reload(
    browser, live_server, marketer, manager, run_tasks_inline
):
    run = generate_campaign(marketer, run_tasks_inline, platforms=["linkedin"])
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)
    before = snapshot(post)
    base = live_server.url
    page = log_in(browser, base, "manager")
    page.goto(f"{base}/deliverables/{post.pk}/")

    page.get_by_role("button", name="Request changes").click()
    page.wait_for_load_state()
    assert page.locator("#id_comment_error").inner_text().strip() == "This field is required to reject."
    assert page.url == f"{base}/deliverables/{post.pk}/"  # the address bar is back on the deliverable page

    answer = page.reload()
    assert answer.status == 200 and page.url == f"{base}/deliverables/{post.pk}/"
    assert page.get_by_role("button", name="Request changes").is_visible()
    page.goto(f"{base}/deliverables/{post.pk}/reject")  # the action URL typed in: the page, not an empty 405
    assert page.url == f"{base}/deliverables/{post.pk}/"
    assert snapshot(post) == before
