"""Operator commands of the deliverables app: requeue_stuck_runs, usage_report and generate (contract §8)."""

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from deliverables.models import ProviderCall, Run
from deliverables.services import Slot, run_create

pytestmark = pytest.mark.django_db


def run_command(name: str, *args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(name, *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


# --- requeue_stuck_runs ---------------------------------------------------------------------------------------


def test_requeue_stuck_runs_dispatches_a_run_the_broker_never_got(
    marketer, django_capture_on_commit_callbacks, monkeypatch
):
    from deliverables import tasks

    sent = []
    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda args, **kwargs: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=False):
        run = run_create(
            module="campaigns",
            brand=marketer.brands.get(),
            requested_by=marketer,
            trace_id="t-1",
            brief={"campaign_name": "Q1"},
            slots=[Slot("campaign_brief")],
        )
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=1))

    code, output = run_command("requeue_stuck_runs")

    assert code == 0
    assert output.splitlines() == [
        "dispatched 1 run(s) that were never queued",
        "re-dispatched 0 stuck run(s) (no progress for 600 s)",
        "gave up 0 deliverable(s) after 3 deliveries",
        "settled 0 run(s) whose deliverables had all ended",
        "Done.",
    ]
    assert sent == [str(run.deliverables.get().pk)]
    assert Run.objects.get(pk=run.pk).dispatched_at is not None


def test_requeue_stuck_runs_with_nothing_stuck_says_so():
    code, output = run_command("requeue_stuck_runs")

    assert code == 0
    assert output.splitlines()[-1] == "Nothing was stuck."


def test_beat_schedules_the_sweeper_task(settings):
    from deliverables.tasks import requeue_stuck_runs

    entry = settings.CELERY_BEAT_SCHEDULE["requeue-stuck-runs"]
    assert entry == {"task": "deliverables.tasks.requeue_stuck_runs", "schedule": 60.0}
    assert requeue_stuck_runs.name == entry["task"]
    assert requeue_stuck_runs.run() == {"dispatched": 0, "redispatched": 0, "gave_up": 0, "settled": 0}


# --- usage_report ---------------------------------------------------------------------------------------------


@pytest.fixture
def calls(brand, other_brand):
    """Provider calls over two months and two brands (January: acme; February: acme and globex)."""

    def call(when, brand, provider, model, tokens_in, tokens_out, cost, outcome="ok"):
        row = ProviderCall.objects.create(
            brand=brand,
            provider=provider,
            model=model,
            use_case="email_copy",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost,
            outcome=outcome,
        )
        ProviderCall.objects.filter(pk=row.pk).update(created_at=when)

    jan, feb = datetime(2025, 1, 10, 12, tzinfo=UTC), datetime(2025, 2, 3, 9, tzinfo=UTC)
    call(jan, brand, "openai", "gpt-4.1-mini", 1000, 500, Decimal("0.0012"))
    call(jan, brand, "openai", "gpt-4.1-mini", 2000, 1000, Decimal("0.0024"))
    call(jan, brand, "openai", "gpt-4.1-mini", 0, 0, None, outcome="error")
    call(jan, brand, "offline", "offline-templates-v1", 0, 0, None, outcome="skipped")  # not counted
    call(feb, brand, "anthropic", "claude-new", 300, 100, None)  # unpriced
    call(feb, other_brand, "offline", "offline-templates-v1", 50, 70, Decimal("0"))  # words, not tokens: 0


def test_usage_report_prints_an_aligned_table_with_totals(calls):
    code, output = run_command("usage_report")

    assert code == 0
    assert output.splitlines() == [
        "month    brand   provider   calls  errors  tokens_in  tokens_out  tokens  cost_usd  unpriced",
        "-------  ------  ---------  -----  ------  ---------  ----------  ------  --------  --------",
        "2025-01  acme    openai         2       1       3000        1500    4500    0.0036         0",
        "2025-02  acme    anthropic      1       0        300         100     400    0.0000         1",
        "2025-02  globex  offline        1       0          0           0       0    0.0000         0",
        "-------  ------  ---------  -----  ------  ---------  ----------  ------  --------  --------",
        "total                           4       1       3300        1600    4900    0.0036         1",
    ]


def test_usage_report_csv_since_a_month_for_one_brand(calls):
    code, output = run_command("usage_report", "--csv", "--since", "2025-02", "--brand", "acme")

    assert code == 0
    assert list(csv.DictReader(StringIO(output))) == [
        {
            "month": "2025-02",
            "brand": "acme",
            "provider": "anthropic",
            "calls": "1",
            "errors": "0",
            "tokens_in": "300",
            "tokens_out": "100",
            "tokens": "400",
            "cost_usd": "0.0000",
            "unpriced": "1",
        },
    ]


def test_usage_report_with_no_calls_says_so(calls):
    assert run_command("usage_report", "--since", "2031-01") == (0, "No provider calls in this period.\n")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--since", "2025-13"), "--since must be a month as YYYY-MM (e.g. 2025-01), not '2025-13'."),
        (("--since", "Jan"), "--since must be a month as YYYY-MM (e.g. 2025-01), not 'Jan'."),
        (("--brand", "nope"), "No brand has the slug 'nope'."),
    ],
)
def test_usage_report_refuses_bad_options(calls, args, message):
    assert run_command("usage_report", *args) == (1, message)


# --- generate -----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the run is dispatched on a real commit, before the command waits
def test_generate_prints_the_envelope_of_a_finished_run(marketer, monkeypatch):
    from deliverables import tasks

    monkeypatch.setattr(
        tasks.generate_deliverable, "apply_async", lambda args, **kwargs: tasks.generate_deliverable.run(*args)
    )
    out = StringIO()
    call_command(
        "generate",
        "campaigns",
        "--user",
        "marketer",
        "--name",
        "Q1 Launch",
        "--platforms",
        "linkedin,email",
        "--deliverables",
        "campaign_brief,email_copy",
        "--wait",
        "5",
        stdout=out,
    )

    envelope = json.loads(out.getvalue())
    assert envelope["status"] == "SUCCESS"
    assert [d["kind"] for d in envelope["deliverables"]] == ["campaign_brief", "email_copy"]
    assert Run.objects.get().requested_by == marketer


def test_generate_exits_3_when_the_wait_ends_before_the_run(marketer, monkeypatch):
    from deliverables import tasks

    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda *a, **k: None)  # no worker

    code, output = run_command("generate", "campaigns", "--brand", "acme", "--name", "Q1", "--wait", "0.3")

    assert code == 3
    assert "is still in progress after 0.3 s: is a worker running?" in output


@pytest.mark.django_db(transaction=True)
def test_generate_exits_2_when_the_run_fails(marketer, monkeypatch, settings):
    from deliverables import tasks

    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["offline"]
    monkeypatch.setattr(
        tasks.generate_deliverable, "apply_async", lambda args, **kwargs: tasks.generate_deliverable.run(*args)
    )

    code, output = run_command(
        "generate", "campaigns", "--brand", "acme", "--name", "Q1", "--deliverables", "email_copy", "--wait", "5"
    )

    assert code == 2
    assert "failed: PROVIDER_ERROR: All providers failed: offline: forced to fail" in output


@pytest.mark.parametrize(
    "args, message",
    [
        (("creatives",), "Name the brand (--brand SLUG) or the user (--user NAME)."),
        (("campaigns", "--brand", "acme"), 'Invalid brief: {"campaign_name": ["This field may not be blank."]}'),
        (("campaigns", "--user", "nobody", "--name", "Q1"), "No user named 'nobody'."),
        (
            ("creatives", "--brand", "acme", "--product", "Tea", "--deliverables", "social_posts"),
            "Nothing to generate: none of the requested deliverables applies to this brief.",
        ),
    ],
)
def test_generate_refuses_a_bad_brief_with_exit_1_and_saves_nothing(marketer, args, message):
    code, output = run_command("generate", *args)

    assert code == 1
    assert output.startswith(message)
    assert Run.objects.count() == 0


@pytest.mark.parametrize("args", [("--brand", "acme"), ("--user", "marketer"), ("--user", "manager")])
def test_generate_works_for_the_seed_users(monkeypatch, args):
    from deliverables import tasks

    call_command("seed_demo", stdout=StringIO())
    monkeypatch.setattr(tasks.generate_deliverable, "apply_async", lambda *a, **k: None)  # no worker

    code, output = run_command("generate", "campaigns", *args, "--name", "Q1", "--deliverables", "email_copy")

    assert code == 0
    assert json.loads(output)["status"] == "PENDING"
    expected = args[1] if args[0] == "--user" else "marketer"  # --brand picks the brand's first member
    assert Run.objects.get().requested_by.username == expected
