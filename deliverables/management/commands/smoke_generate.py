import json
import os
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rest_framework.authtoken.models import Token

from aicmo.llm.registry import is_configured, provider_order
from deliverables.envelope import validate_envelope

EXIT_OK, EXIT_CONFIG, EXIT_ENDPOINT, EXIT_CONTRACT, EXIT_UNEXPECTED = 0, 1, 2, 3, 4
DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL = ("SUCCESS", "PARTIAL", "FAILED")
KEY_VARIABLES = (
    ("openai", "OPENAI_API_KEY"),
    ("anthropic", "ANTHROPIC_API_KEY"),
    ("groq", "GROQ_API_KEY"),
    ("ollama", "OLLAMA_BASE_URL"),
)
RULE = "=" * 80


class SmokeFailure(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Command(BaseCommand):
    help = (
        "The seed's smoke test against a running server: (1) the backend URL (--url, else $BACKEND_URL, else "
        f"{DEFAULT_URL}), (2) the providers configured here (names only, never keys), (3) POST "
        "/api/v1/campaigns/generate?wait=N with the DRF token of --user (default marketer; the token is created "
        "if missing), (4) the answer keeps the envelope contract (deliverables.envelope.validate_envelope, "
        "trace id echoed), (5) a summary: status, run id, provider, model, each deliverable. "
        "Exit 0 ok, 1 configuration, 2 endpoint (unreachable, error status or no result in time), "
        "3 contract (the envelope broken, a PARTIAL or FAILED run, or the offline provider answering while a "
        "provider key is configured, unless --allow-offline), 4 unexpected error."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help=f"Backend base URL (default: $BACKEND_URL or {DEFAULT_URL}).")
        parser.add_argument("--user", default="marketer", help="User whose API token is used (default: marketer).")
        parser.add_argument("--brand", help="Brand slug (default: the user's only brand).")
        parser.add_argument("--wait", type=int, default=60, help="Seconds the server may block per request (≤ 120).")
        parser.add_argument(
            "--timeout", type=float, default=180.0, help="Seconds to wait in all for the run to end (default 180)."
        )
        parser.add_argument(
            "--allow-offline",
            action="store_true",
            help="Pass when the offline provider answered although a provider key is configured (else exit 3).",
        )

    def handle(self, *args, **options):
        try:
            self._smoke(options)
        except SmokeFailure as failure:
            self._line(f"❌ {failure.message}")
            self._banner("❌ SMOKE TEST FAILED")
            raise CommandError(failure.message, returncode=failure.code)
        except Exception as error:  # a bug here, or something nobody expected: still a clear exit code
            message = f"Unexpected error: {type(error).__name__}: {str(error)[:300]}"
            self._line(f"❌ {message}")
            raise CommandError(message, returncode=EXIT_UNEXPECTED)
        self._banner("✅ ALL TESTS PASSED")

    # --- the five checks -------------------------------------------------------------------------------------

    def _smoke(self, options) -> None:
        self._banner("TEST 1: Backend URL configuration")
        url = self._backend_url(options["url"])
        self._line(f"✅ Backend URL configured: {_printable(url)}")

        self._banner("TEST 2: Provider configuration (names only)")
        for name, variable in KEY_VARIABLES:
            self._line(
                f"  {'✅' if is_configured(name) else '❌'} {variable} "
                f"{'configured' if is_configured(name) else 'not set'}"
            )
        order = provider_order()
        if not order:
            raise SmokeFailure(
                EXIT_CONFIG,
                "No LLM provider is configured (set a provider key, or AICMO_DEV_STUBS=1 for the offline provider).",
            )
        self._line(f"✅ {len(order)} provider(s) available, in chain order: {', '.join(order)}")
        token = self._token(options["user"])
        self._line(f"✅ Authenticating as {options['user']} (DRF token)")

        self._banner("TEST 3: Endpoint availability")
        if not 0 <= options["wait"] <= settings.AICMO_MAX_WAIT_S:
            raise SmokeFailure(EXIT_CONFIG, f"--wait must be from 0 to {settings.AICMO_MAX_WAIT_S} seconds.")
        trace_id = str(uuid.uuid4())
        endpoint = f"{url}/api/v1/campaigns/generate?wait={options['wait']}"
        brief: dict[str, Any] = {
            "campaign_name": f"Smoke test {timezone.now():%Y-%m-%d %H:%M}",
            "objectives": ["Awareness"],
            "platforms": ["LinkedIn", "Email"],
            "budget": 1000,
            "timeline_days": 14,
            "audience": "People who will read this smoke test",
            "key_message": "The backend works end to end.",
        }
        if options["brand"]:
            brief["brand"] = options["brand"]
        self._line(f"POST {_printable(endpoint)}")
        self._line(f"Trace ID: {trace_id}")
        deadline = time.monotonic() + options["timeout"]
        status, headers, envelope = self._request(
            "POST", endpoint, token=token, trace_id=trace_id, body=brief, timeout_s=options["wait"] + 30
        )
        self._line(f"Status: {status}")
        if status not in (200, 202):
            raise SmokeFailure(EXIT_ENDPOINT, f"The endpoint answered {status}{_error_summary(envelope)}.")
        self._line(f"✅ Endpoint responded with {status}")

        self._banner("TEST 4: Response envelope validation")
        self._check_contract(envelope, headers, trace_id)
        location = headers.get("Location") or f"/api/v1/runs/{envelope['run_id']}"
        while envelope["status"] not in TERMINAL:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SmokeFailure(
                    EXIT_ENDPOINT,
                    f"The run is still {envelope['status']} after {options['timeout']:g} s: is a worker running?",
                )
            wait = max(1, min(int(remaining), settings.AICMO_MAX_WAIT_S, options["wait"] or 10))
            self._line(
                f"Run {envelope['status']} ({envelope['progress']['done']}/{envelope['progress']['total']}); "
                f"waiting up to {wait} s more"
            )
            status, headers, envelope = self._request(
                "GET", f"{url}{location}?wait={wait}", token=token, trace_id=trace_id, timeout_s=wait + 30
            )
            if status not in (200, 202):
                raise SmokeFailure(EXIT_ENDPOINT, f"Reading the run answered {status}{_error_summary(envelope)}.")
            self._check_contract(envelope, headers, trace_id, echoed=False)
        self._line(f"Status: {envelope['status']}")
        self._line(f"Run ID: {envelope['run_id']}")
        self._line(f"Module: {envelope['module']}")
        self._line("✅ All contract checks passed")

        self._banner("TEST 5: Response summary")
        meta = envelope["meta"]
        self._line(f"Status: {envelope['status']}")
        self._line(f"Run ID: {envelope['run_id']}")
        self._line(f"Provider: {meta['provider']}")
        self._line(f"Model: {meta['model']}")
        self._line(f"Tokens: {meta['tokens_used']}  Cost (USD): {meta['cost_usd']}")
        self._line(f"Deliverables: {len(envelope['deliverables'])}")
        for i, item in enumerate(envelope["deliverables"]):
            self._line(f"  [{i}] {item['kind']} | {item['title']}")
            self._line(f"       Content: {len(item['content_markdown'])} chars")
        for warning in meta["warnings"]:
            self._line(f"⚠️  {warning}")
        self._check_outcome(envelope, allow_offline=options["allow_offline"])

    def _check_outcome(self, envelope: dict, *, allow_offline: bool) -> None:
        """A run that ended, but not the way an operator may call green (contract §8: exit 3)."""
        if envelope["status"] == "FAILED":
            raise SmokeFailure(EXIT_CONTRACT, f"The run FAILED{_error_summary(envelope)}.")
        if envelope["status"] == "PARTIAL":
            raise SmokeFailure(
                EXIT_CONTRACT, f"The run is PARTIAL: {'; '.join(envelope['meta']['warnings']) or 'some pieces failed'}."
            )
        providers = {envelope["meta"]["provider"]} | {
            (item.get("metadata") or {}).get("provider") for item in envelope["deliverables"]
        }
        keyed = [name for name, _ in KEY_VARIABLES if is_configured(name)]
        if "offline" in providers and keyed:
            message = (
                f"The offline provider answered although {', '.join(keyed)} is configured here: "
                "is the key valid, and does the server have it?"
            )
            if not allow_offline:
                raise SmokeFailure(EXIT_CONTRACT, message + " (--allow-offline accepts this.)")
            self._line(f"⚠️  {message} Accepted (--allow-offline).")

    def _backend_url(self, given: str | None) -> str:
        url = (given or os.environ.get("BACKEND_URL") or DEFAULT_URL).strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SmokeFailure(EXIT_CONFIG, f"The backend URL must look like {DEFAULT_URL}, not {_printable(url)!r}.")
        return url

    def _token(self, username: str) -> str:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise SmokeFailure(EXIT_CONFIG, f"No user named {username!r}: run `manage.py seed_demo` or pass --user.")
        if not user.is_active:
            raise SmokeFailure(EXIT_CONFIG, f"The user {username!r} is inactive.")
        return Token.objects.get_or_create(user=user)[0].key

    def _request(
        self, method: str, url: str, *, token: str, trace_id: str, timeout_s: float, body: dict | None = None
    ) -> tuple[int, Any, Any]:
        request = urllib.request.Request(
            url,
            method=method,
            data=json.dumps(body).encode() if body else None,
            headers={
                "Authorization": f"Token {token}",
                "X-Trace-ID": trace_id,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, error.headers, error.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SmokeFailure(
                EXIT_ENDPOINT, f"Cannot reach the backend at {_printable(url)}: {reason}. Is the server running?"
            )
        try:
            data = json.loads(raw)
        except ValueError:
            if 200 <= status < 300:
                raise SmokeFailure(EXIT_CONTRACT, f"The answer ({status}) is not JSON: {raw[:120]!r}")
            data = None
        return status, headers, data

    def _check_contract(self, envelope: Any, headers, trace_id: str, *, echoed: bool = True) -> None:
        problems = validate_envelope(envelope)
        meta = envelope.get("meta") if isinstance(envelope, dict) else None
        if isinstance(meta, dict) and meta.get("trace_id") != trace_id:
            problems.append("meta.trace_id does not echo the X-Trace-ID sent")
        if echoed and headers.get("X-Trace-ID") != trace_id:
            problems.append("the X-Trace-ID response header does not echo the one sent")
        if problems:
            for problem in problems:
                self._line(f"  ❌ {problem}")
            raise SmokeFailure(EXIT_CONTRACT, f"The answer breaks the envelope contract ({len(problems)} problem(s)).")

    def _banner(self, title: str) -> None:
        self.stdout.write(RULE)
        self.stdout.write(title)
        self.stdout.write(RULE)

    def _line(self, text: str) -> None:
        self.stdout.write(text)


def _printable(url: str) -> str:
    """The URL without any user:password part."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _error_summary(envelope: Any) -> str:
    error = envelope.get("error") if isinstance(envelope, dict) else None
    if isinstance(error, dict):
        return f" ({error.get('type')}: {str(error.get('message'))[:200]})"
    if isinstance(envelope, dict) and envelope.get("detail"):
        return f" ({str(envelope['detail'])[:200]})"
    return ""
