"""Runs generated through the official SDKs against the local fake server: fallback, failure, cooldown,
and keys that never leak."""

import json
import logging

import pytest

from aicmo.testing.fake_llm_server import Reply
from conftest import SECRET_ANTHROPIC_KEY, SECRET_OPENAI_KEY
from deliverables.envelope import validate_envelope
from deliverables.models import ProviderCall, Revision, Run

pytestmark = pytest.mark.django_db

BRIEF = {"campaign_name": "Spring Roast", "platforms": ["linkedin"], "deliverables": ["linkedin_post"]}


def generate(client, run_tasks_inline, body=BRIEF):
    with run_tasks_inline():
        response = client.post("/api/v1/campaigns/generate", body, format="json")
    return client.get(f"/api/v1/runs/{response.data['run_id']}").json()


def test_openai_answers_and_its_usage_is_recorded(marketer_api, run_tasks_inline, sdk_providers):
    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["status"] == "SUCCESS"
    assert envelope["meta"]["provider"] == "openai"
    assert envelope["meta"]["model"] == "gpt-4.1-mini"
    post = envelope["deliverables"][0]
    assert post["metadata"]["provider"] == "openai"
    sent = sdk_providers.requests_to("openai")[0].body
    assert sent["response_format"]["type"] == "json_schema"
    assert "Acme Coffee Roasters" in sent["messages"][0]["content"]  # the brand kit is in the prompt
    call = ProviderCall.objects.get()
    assert (call.provider, call.outcome, call.use_case) == ("openai", "ok", "linkedin_post")
    assert call.tokens_in > 0 and call.cost_usd is not None


def test_openai_500_falls_back_to_anthropic(marketer_api, run_tasks_inline, sdk_providers):
    sdk_providers.enqueue("openai", Reply(status=500))

    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["status"] == "SUCCESS"
    assert envelope["meta"]["provider"] == "anthropic"
    assert list(ProviderCall.objects.order_by("pk").values_list("provider", "outcome")) == [
        ("openai", "error"),
        ("anthropic", "ok"),
    ]


def test_every_provider_down_fails_the_run_with_provider_error(marketer_api, run_tasks_inline, sdk_providers):
    sdk_providers.enqueue("openai", Reply(status=500))
    sdk_providers.enqueue("anthropic", Reply(status=529))

    envelope = generate(marketer_api, run_tasks_inline)

    assert validate_envelope(envelope) == []
    assert envelope["status"] == "FAILED"
    assert envelope["error"]["type"] == "PROVIDER_ERROR"
    assert "HTTP 500 from openai" in envelope["error"]["message"]
    assert Revision.objects.count() == 0
    assert (envelope["meta"]["provider"], envelope["meta"]["model"]) == ("anthropic", "claude-haiku-4-5")  # last call


def test_rate_limits_everywhere_fail_the_run_as_rate_limit(marketer_api, run_tasks_inline, sdk_providers):
    sdk_providers.enqueue("openai", Reply(status=429, headers={"retry-after": "3600"}))
    sdk_providers.enqueue("anthropic", Reply(status=429))

    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["status"] == "FAILED"
    assert envelope["error"]["type"] == "RATE_LIMIT"
    assert envelope["meta"]["provider"] == "anthropic"


def test_a_drill_skipping_every_provider_names_no_provider(marketer_api, run_tasks_inline, sdk_providers, settings):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["openai", "anthropic"]

    envelope = generate(marketer_api, run_tasks_inline)

    assert validate_envelope(envelope) == []
    assert envelope["status"] == "FAILED"
    assert (envelope["meta"]["provider"], envelope["meta"]["model"]) == ("none", "")
    assert sdk_providers.requests == []


def test_a_dead_provider_is_skipped_once_its_cooldown_opens(marketer_api, run_tasks_inline, sdk_providers, settings):
    settings.AICMO_COOLDOWN_FAILURES = 2
    for _ in range(5):
        sdk_providers.enqueue("openai", Reply(status=503))

    envelope = generate(
        marketer_api,
        run_tasks_inline,
        {**BRIEF, "platforms": ["linkedin", "instagram", "x", "facebook"], "deliverables": ["social_posts"]},
    )

    assert envelope["status"] == "SUCCESS"
    assert len(sdk_providers.requests_to("openai")) == 2  # then the cooldown skips it
    assert ProviderCall.objects.filter(provider="openai", outcome="skipped").count() == 2
    assert ProviderCall.objects.filter(provider="anthropic", outcome="ok").count() == 4


def test_a_forced_failure_drill_never_calls_the_provider(marketer_api, run_tasks_inline, sdk_providers, settings):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["openai"]

    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["meta"]["provider"] == "anthropic"
    assert sdk_providers.requests_to("openai") == []


def test_a_hanging_provider_is_cut_by_the_timeout(marketer_api, run_tasks_inline, sdk_providers, settings):
    settings.AICMO_LLM_TIMEOUT_S = 0.5
    sdk_providers.enqueue("openai", Reply(hang=True))

    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["meta"]["provider"] == "anthropic"
    failed = ProviderCall.objects.get(provider="openai")
    assert failed.error_type == "TIMEOUT"
    assert 400 <= failed.latency_ms < 2000


def test_garbage_then_an_invalid_repair_falls_through(marketer_api, run_tasks_inline, sdk_providers):
    sdk_providers.enqueue("openai", Reply(garbage=True))

    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["status"] == "SUCCESS"
    assert envelope["meta"]["provider"] == "anthropic"
    assert ProviderCall.objects.get(provider="openai").error_type == "VALIDATION_ERROR"


def test_keys_never_reach_logs_envelopes_or_the_database(marketer_api, run_tasks_inline, sdk_providers, caplog):
    quoted = {"error": {"message": f"Incorrect API key provided: {SECRET_OPENAI_KEY}"}}
    sdk_providers.enqueue("openai", Reply(status=401, body=quoted))
    sdk_providers.enqueue("anthropic", Reply(status=500, body={"error": {"message": SECRET_ANTHROPIC_KEY}}))
    caplog.set_level(logging.DEBUG)

    envelope = generate(marketer_api, run_tasks_inline)

    assert envelope["status"] == "FAILED"
    stored = json.dumps([list(Run.objects.values()), list(ProviderCall.objects.values())], default=str)
    for key in (SECRET_OPENAI_KEY, SECRET_ANTHROPIC_KEY):
        assert key not in caplog.text
        assert key not in json.dumps(envelope)
        assert key not in stored
    assert sdk_providers.requests_to("openai")[0].headers["authorization"] == f"Bearer {SECRET_OPENAI_KEY}"
