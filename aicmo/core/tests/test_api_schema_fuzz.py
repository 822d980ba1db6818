"""Bad input: schemathesis generates requests from /api/schema/ (valid ones and schema-violating ones) against a
live server, authenticated with a seeded marketer's token. No request may answer 5xx, every answer must match
what the schema declares, and invalid requests must be refused."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Per operation (valid and invalid requests together): the test stays well under two minutes on CI, and is the same
# every run. For a deeper local hunt: AICMO_FUZZ_EXAMPLES=500 AICMO_FUZZ_RANDOM=1 pytest this file.
MAX_EXAMPLES = int(os.environ.get("AICMO_FUZZ_EXAMPLES", "100"))
DERANDOMIZE = os.environ.get("AICMO_FUZZ_RANDOM") != "1"

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
# An invalid request may also be refused with 413 (too large to read at all), not only with 400.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                    "5xx",
                ]
            }
        }
    }
)


@pytest.fixture
def run_tasks_in_requests(monkeypatch):
    """Generation runs inside the request (right after its commit), so `?wait=N` never blocks on a worker."""
    from deliverables import tasks

    monkeypatch.setattr(
        tasks.generate_deliverable, "apply_async", lambda args, **kwargs: tasks.generate_deliverable.run(*args)
    )


@pytest.fixture
def api_token(marketer, manager, outsider, run_tasks_in_requests) -> str:
    """A seeded marketer's token; a generated campaign gives the id-taking operations real rows nearby."""
    from campaigns.services import campaign_generate

    campaign_generate(
        brand=marketer.brands.get(),
        user=marketer,
        trace_id="fuzz-seed",
        brief={"campaign_name": "Fuzz seed", "platforms": ["linkedin"], "deliverables": []},
    )
    return Token.objects.create(user=marketer).key


@pytest.fixture
def no_login_lockout(settings):
    """The fuzzer sends wrong Basic credentials over and over, as a password guesser does: past the log-in limit
    they would answer 429 (tested in test_basic_auth.py), not the 401 this test checks."""
    settings.AXES_FAILURE_LIMIT = 10**9


def _fuzz(operation, headers: dict[str, str]) -> str | None:
    """Run one operation's examples; the failure report, or None."""
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=DERANDOMIZE,
    )
    @given(case=strategy)
    def check(case):
        # Not `positive_data_acceptance`: some schema-valid briefs are refused on purpose with the documented 400
        # (a brand you are not a member of, a platform name the product does not know).
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    try:
        check()
    except (Exception, BaseExceptionGroup) as error:  # a group of named check failures, with a curl to reproduce
        return f"{operation.label}: {error}"
    return None


def test_every_operation_answers_as_declared_and_never_5xx(live_server, api_token, no_login_lockout):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    failures = [
        report
        for operation in operations
        if (report := _fuzz(operation, {"Authorization": f"Token {api_token}"})) is not None
    ]

    assert failures == [], "\n\n".join(failures)
