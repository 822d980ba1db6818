"""Home, login, the theme preference, the platform colours, and the spend chart's geometry."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aicmo.core.charts import line_chart, nice_ceiling
from aicmo.core.models import UserPreference
from conftest import page_client_for
from deliverables.models import Deliverable, ProviderCall
from deliverables.tests.review_helpers import generate_campaign, of_kind, set_status

pytestmark = pytest.mark.django_db


def test_login_page_and_login_then_logout_by_post(client, marketer):
    page = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">Username' in page and '<label for="id_password">Password' in page

    response = client.post("/accounts/login/", {"username": "marketer", "password": "pw-123456"})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/").content.decode()
    assert '<form method="post" action="/accounts/logout/">' in home
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_says_what_to_do(client, marketer):
    response = client.post("/accounts/login/", {"username": "marketer", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert "ask an administrator to reset your password" in response.content.decode()


def test_home_shows_recent_runs_spend_per_brand_and_the_chart(marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline)
    ProviderCall.objects.create(
        brand=run.brand,
        provider="openai",
        model="gpt-4.1-mini",
        use_case="x",
        tokens_in=1000,
        tokens_out=500,
        cost_usd=Decimal("0.0125"),
        outcome="ok",
    )
    ProviderCall.objects.create(
        brand=run.brand,
        provider="openai",
        model="gpt-4.1-mini",
        use_case="x",
        tokens_in=10,
        tokens_out=0,
        cost_usd=Decimal("9"),
        outcome="error",
    )  # not spend
    ProviderCall.objects.create(
        brand=run.brand,
        provider="offline",
        model="offline-templates-v1",
        use_case="x",
        tokens_in=300,
        tokens_out=200,
        cost_usd=Decimal("0"),
        outcome="ok",
    )  # an offline call logged with word counts (as before): counted as a call, never as tokens
    old = ProviderCall.objects.create(
        brand=run.brand,
        provider="openai",
        model="gpt-4.1-mini",
        use_case="x",
        tokens_in=1,
        tokens_out=1,
        cost_usd=Decimal("5"),
        outcome="ok",
    )
    ProviderCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=70))

    html = page_client_for(marketer).get("/").content.decode()

    assert f'href="/runs/{run.run_id}/">Q1 Launch</a>' in html
    assert '<progress max="6" value="6"' in html
    # the 7 offline drafts are counted apart: their words are not tokens (only the openai call's 1,500 count)
    assert ProviderCall.objects.filter(provider="offline", outcome="ok").count() == 7
    assert (
        '<td class="num">$0.0125</td><td class="num">1,500</td><td class="num">8 <span class="small muted" '
        'title="Template drafts by the offline provider: no tokens, no cost">(7 offline)</span></td>'
    ) in html
    assert 'role="img" aria-labelledby="chart-svg-title"' in html
    assert "Acme Coffee Roasters · offline" in html and "Acme Coffee Roasters · openai" in html
    assert html.count("<polyline") == 2
    assert "Managers approve deliverables." in html  # a marketer has no queue


def test_home_shows_a_manager_the_approval_queue(manager, marketer, run_tasks_inline):
    run = generate_campaign(marketer, run_tasks_inline)
    post = set_status(of_kind(run, "linkedin_post"), Deliverable.Status.IN_REVIEW)

    html = page_client_for(manager).get("/").content.decode()

    assert f'<a href="/deliverables/{post.pk}/">' in html
    assert 'href="/approvals/"' in html


def test_home_without_runs_says_how_to_start(marketer):
    html = page_client_for(marketer).get("/").content.decode()
    assert "No runs yet." in html and 'href="/campaigns/new/">Start your first campaign</a>' in html
    assert "No spend in the last 30 days." in html


def test_the_theme_is_remembered_per_user_and_rendered_on_every_page(marketer, manager):
    client = page_client_for(marketer)
    assert '<html lang="en" data-theme="system">' in client.get("/").content.decode()

    response = client.post("/preferences/theme", {"theme": "dark", "next": "/assets/"})

    assert response.status_code == 302 and response["Location"] == "/assets/"
    assert UserPreference.objects.get(user=marketer).theme == "dark"
    assert '<html lang="en" data-theme="dark">' in client.get("/").content.decode()
    assert '<html lang="en" data-theme="system">' in page_client_for(manager).get("/").content.decode()  # per user


def test_the_toggle_script_gets_204_and_bad_values_change_nothing(marketer):
    client = page_client_for(marketer)
    assert client.post("/preferences/theme", {"theme": "light"}, HTTP_X_REQUESTED_WITH="fetch").status_code == 204
    assert UserPreference.objects.get(user=marketer).theme == "light"

    refused = client.post("/preferences/theme", {"theme": "neon"}, HTTP_X_REQUESTED_WITH="fetch")
    assert refused.status_code == 400
    assert UserPreference.objects.get(user=marketer).theme == "light"
    # a plain form post goes back to its page with the error shown there, never to a bare error answer
    back = client.post("/preferences/theme", {"theme": "neon", "next": "/assets/"}, follow=True)
    assert back.redirect_chain == [("/assets/", 302)] and back.status_code == 200
    assert "theme" in "".join(str(m) for m in back.context["messages"]).lower()
    assert UserPreference.objects.get(user=marketer).theme == "light"
    offsite = client.post("/preferences/theme", {"theme": "dark", "next": "https://evil.example/"})
    assert offsite["Location"] == "/"


def test_the_theme_needs_a_login_and_a_post(client, marketer):
    assert client.post("/preferences/theme", {"theme": "dark"})["Location"].startswith("/accounts/login/")
    got = page_client_for(marketer).get("/preferences/theme")  # the address bar on the action URL: the home page
    assert (got.status_code, got["Location"]) == (302, "/")
    assert page_client_for(marketer).put("/preferences/theme").status_code == 405
    assert not UserPreference.objects.exists()


def test_platform_colours_come_from_the_registry_as_css(client):
    response = client.get("/ui/platforms.css")
    assert response["Content-Type"] == "text/css; charset=utf-8"
    css = response.content.decode()
    # The accent, and the preview link colour per theme (light-dark() follows the device or the toggle).
    assert ".platform-linkedin { --platform-color: #0a66c2; --platform-link: light-dark(#0a66c2, #71b7fb); }" in css
    assert ".platform-tiktok { --platform-color: #ff0050; --platform-link: light-dark(#4338ca, #a5a1ff); }" in css


def test_pages_load_no_inline_script_or_style(marketer, run_tasks_inline):
    """Strict CSP later: scripts come from /static/, there is no style attribute or inline handler."""
    from deliverables.tests.test_views import tags_of

    run = generate_campaign(marketer, run_tasks_inline)
    client = page_client_for(marketer)
    calendar = of_kind(run, "content_calendar")
    for path in [
        "/",
        f"/runs/{run.run_id}/",
        f"/deliverables/{calendar.pk}/",
        f"/deliverables/{of_kind(run, 'linkedin_post').pk}/",
        "/campaigns/new/",
        "/creatives/new/",
        "/assets/",
        "/brands/acme/",
    ]:
        html = client.get(path).content.decode()
        for tag, attrs in tags_of(html):
            assert tag != "style", path
            assert "style" not in attrs, (path, tag, attrs)
            assert not any(name.startswith("on") for name in attrs), (path, tag, attrs)
            if tag == "script":
                assert attrs["src"].startswith("/static/"), path


# --- the chart -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, top",
    [(0, 1.0), (0.0003, 0.0005), (0.012, 0.02), (1, 1), (3, 5), (7, 10), (12, 20), (101, 200), (2600, 5000)],
)
def test_the_y_axis_top_is_a_round_number_at_or_above_the_data(value, top):
    assert nice_ceiling(value) == pytest.approx(top)


def test_a_line_chart_maps_days_and_values_onto_the_plot():
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(3)]
    chart = line_chart(
        days=days,
        series={"b": {days[1]: 5}, "a": {days[0]: 10, days[2]: 2.5}},
        title="Spend",
        format_value=str,
        width=200,
        height=100,
    )

    assert [s.name for s in chart.series] == ["a", "b"]
    a = chart.series[0]
    # plot: x from 64 to 188, y from 12 (top = 10) to 72 (zero)
    assert [(p.x, p.y) for p in a.points] == [(64.0, 12.0), (126.0, 72.0), (188.0, 57.0)]
    assert a.polyline == "64.0,12.0 126.0,72.0 188.0,57.0"
    assert a.total == "12.5" and a.color == "#0072b2"
    assert [t.label for t in chart.y_ticks] == ["0.0", "2.5", "5.0", "7.5", "10.0"]
    assert chart.empty is False
    assert line_chart(days=days, series={}, title="x", format_value=str).empty is True
