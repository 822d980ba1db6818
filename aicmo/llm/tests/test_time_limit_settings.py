"""Celery's time limits are computed from the whole-call deadline and the providers configured, so they always sit
above the longest a task's calls can take, and the Redis visibility timeout above them (settings read in a fresh
interpreter, as a worker reads them)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PRINT_LIMITS = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
    "s.CELERY_TASK_SOFT_TIME_LIMIT, s.CELERY_TASK_TIME_LIMIT, "
    "s.CELERY_BROKER_TRANSPORT_OPTIONS.get('visibility_timeout'), s.AICMO_RUN_STUCK_AFTER_S]))"
)
PROVIDER_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "OLLAMA_BASE_URL", "CELERY_BROKER_URL")


def limits(**env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES and not k.startswith("AICMO_")}
    clean.update(DJANGO_SETTINGS_MODULE="aicmo.settings.dev", REDIS_URL="redis://127.0.0.1:6379/1", **env)
    done = subprocess.run(
        [sys.executable, "-c", PRINT_LIMITS], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # 8 calls per provider × 1 (offline only counts as one) × 60 s + 30; hard +30; visibility hard + 300
        ({}, [510, 540, 840, 600]),
        # two providers with a 10 s deadline: 8 × 2 × 10 + 30
        ({"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "sk-y", "AICMO_LLM_TIMEOUT_S": "10"}, [190, 220, 520, 600]),
        # four providers at 60 s: the sweeper waits for the hard limit before taking a slot over
        (
            {"OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b", "GROQ_API_KEY": "c", "OLLAMA_BASE_URL": "http://x"},
            [1950, 1980, 2280, 2040],
        ),
    ],
    ids=["offline", "two-providers-10s", "four-providers"],
)
def test_time_limits_sit_above_timeout_times_calls_times_providers(env: dict[str, str], expected: list[int]) -> None:
    assert limits(**env) == expected
