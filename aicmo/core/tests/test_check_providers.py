"""`manage.py check_providers` against the local fake LLM server: reachability, latency, model, exit codes, and
names only (never keys)."""

import re
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aicmo.testing.fake_llm_server import Reply

KEY = "sk-test-SECRET-check-providers-0123456789"


@pytest.fixture
def openai_then_offline(settings, fake):
    settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = KEY, fake.openai_base_url
    settings.AICMO_LLM_PRIMARY_PROVIDER = "openai"
    return fake


def check(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_providers", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_every_configured_provider_answers(openai_then_offline):
    code, output = check()

    assert code == 0
    assert "Provider chain, in order: openai → offline" in output
    assert re.search(r"✅ openai +ok +\d+ ms  gpt-4\.1-mini", output)
    assert re.search(r"✅ offline +ok +\d+ ms  offline-templates-v1", output)
    assert "anthropic  not configured (ANTHROPIC_API_KEY not set)" in output
    assert "ollama     not configured (OLLAMA_BASE_URL not set)" in output
    assert "All 2 configured provider(s) answered." in output
    assert KEY not in output
    sent = openai_then_offline.requests_to("openai")
    assert len(sent) == 1 and sent[0].body["max_completion_tokens"] == 16  # one tiny call


def test_an_unreachable_provider_exits_2_and_names_the_error(openai_then_offline):
    openai_then_offline.enqueue("openai", Reply(status=503))

    code, output = check()

    assert code == 2
    assert re.search(r"❌ openai +unreachable +\d+ ms  gpt-4\.1-mini  PROVIDER_ERROR: HTTP 503 from openai", output)
    assert "✅ offline" in output
    assert "1 of 2 provider(s) did not answer: openai." in output
    assert KEY not in output


def test_a_provider_that_hangs_is_given_up_after_the_timeout(openai_then_offline):
    openai_then_offline.enqueue("openai", Reply(hang=True))

    started = time.monotonic()
    code, output = check("--timeout", "0.5")

    assert code == 2
    assert time.monotonic() - started < 5
    assert "TIMEOUT: timed out waiting for openai" in output


def test_a_trickling_provider_is_given_up_at_the_whole_call_deadline(openai_then_offline):
    # 8 bytes every 0.4 s: each read is far inside the per-read timeout; only the whole-call deadline stops it
    openai_then_offline.enqueue("openai", Reply(text="OK " * 100, trickle=(8, 0.4)))

    started = time.monotonic()
    code, output = check("--timeout", "1")

    assert code == 2
    assert time.monotonic() - started < 2.5
    latency = re.search(r"❌ openai +unreachable +(\d+) ms  gpt-4\.1-mini  TIMEOUT: (.*)", output)
    assert latency is not None and 1000 <= int(latency.group(1)) < 1500
    assert latency.group(2) == "timed out waiting for openai: no complete answer within 1 s"


def test_a_provider_in_a_drill_counts_as_failing_without_being_called(openai_then_offline, settings):
    settings.AICMO_FORCE_LLM_PROVIDER_FAIL = ["openai"]

    code, output = check()

    assert code == 2
    assert "❌ openai     skipped: made to fail by AICMO_FORCE_LLM_PROVIDER_FAIL (a drill)" in output
    assert openai_then_offline.requests_to("openai") == []


def test_no_provider_configured_exits_1(settings):
    settings.AICMO_DEV_STUBS = False  # DEBUG is off in tests: offline is not allowed either

    code, output = check()

    assert code == 1
    assert "No LLM provider is configured" in output
    assert "openai     not configured (OPENAI_API_KEY not set)" in output
    assert "offline    not configured (DJANGO_DEBUG or AICMO_DEV_STUBS not set)" in output


def test_a_configured_provider_left_out_of_the_chain_is_named(openai_then_offline, settings):
    settings.AICMO_LLM_PRIMARY_PROVIDER, settings.AICMO_LLM_FALLBACK_PROVIDERS = "offline", ["offline"]

    code, output = check()

    assert code == 0
    assert "Provider chain, in order: offline" in output
    assert "openai     configured but not in the chain" in output
    assert openai_then_offline.requests_to("openai") == []
