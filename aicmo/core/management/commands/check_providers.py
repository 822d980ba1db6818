import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from aicmo.llm import cooldown, deadline
from aicmo.llm.base import CompletionRequest, Message
from aicmo.llm.exceptions import ProviderError
from aicmo.llm.registry import KNOWN_PROVIDERS, build_provider, is_configured, provider_order

# What each provider needs, by variable name (values are never printed).
REQUIREMENT = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "ollama": "OLLAMA_BASE_URL",
    "offline": "DJANGO_DEBUG or AICMO_DEV_STUBS",
}

EXIT_OK, EXIT_NONE_CONFIGURED, EXIT_UNREACHABLE = 0, 1, 2


class Command(BaseCommand):
    help = (
        "Call each configured LLM provider once, in chain order (AICMO_LLM_PRIMARY_PROVIDER, then "
        "AICMO_LLM_FALLBACK_PROVIDERS), with a tiny prompt and a short deadline for the whole call, and print "
        "whether it answered, how long it took and which model answered. Prints provider and variable names only, "
        "never keys. Exit 0 when every configured provider answered, 1 when none is configured, 2 when some did "
        "not answer (or are made to fail by AICMO_FORCE_LLM_PROVIDER_FAIL)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="Seconds each provider may take for the whole call, connect to last byte (10).",
        )

    def handle(self, *args, **options):
        order = provider_order()
        missing = [name for name in KNOWN_PROVIDERS if name not in order]
        if not order:
            self._print_missing(missing)
            raise CommandError(
                "No LLM provider is configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY, GROQ_API_KEY "
                "or OLLAMA_BASE_URL (or AICMO_DEV_STUBS=1 for the offline provider).",
                returncode=EXIT_NONE_CONFIGURED,
            )
        self.stdout.write(f"Provider chain, in order: {' → '.join(order)}")
        forced = {name.strip().lower() for name in settings.AICMO_FORCE_LLM_PROVIDER_FAIL}
        failed = []
        for name in order:
            ok, line = self._check(name, timeout_s=options["timeout"], forced=name in forced)
            self.stdout.write(f"  {'✅' if ok else '❌'} {line}")
            if not ok:
                failed.append(name)
        self._print_missing(missing)
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(order)} provider(s) did not answer: {', '.join(failed)}.",
                returncode=EXIT_UNREACHABLE,
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(order)} configured provider(s) answered."))

    def _check(self, name: str, *, timeout_s: float, forced: bool) -> tuple[bool, str]:
        with override_settings(AICMO_LLM_TIMEOUT_S=timeout_s):
            provider = build_provider(name)  # a fresh client with the short timeout, not the chain's cached one
        breaker = cooldown.breaker_key(name, provider.model)
        cooling = " (cooling down after repeated failures)" if cooldown.is_cooling_down(breaker) else ""
        if forced:
            return False, f"{name:<10} skipped: made to fail by AICMO_FORCE_LLM_PROVIDER_FAIL (a drill){cooling}"
        request = CompletionRequest(
            system="You are a health check.",
            messages=(Message("user", "Reply with: OK"),),
            use_case="health_check",
            task="health_check",
            max_tokens=16,
            temperature=0,
        )
        started = time.monotonic()
        try:
            # The SDK's timeout is per read: the watchdog holds the whole call to --timeout.
            completion = deadline.within(lambda: provider.complete(request), timeout_s=timeout_s, provider=name)
        except ProviderError as error:  # its message is written by the provider code and never quotes a key
            latency = int((time.monotonic() - started) * 1000)
            return False, (
                f"{name:<10} unreachable  {latency:>6} ms  {provider.model}  "
                f"{error.error_type}: {error.message}{cooling}"
            )
        latency = int((time.monotonic() - started) * 1000)
        return True, f"{name:<10} ok           {latency:>6} ms  {completion.model}{cooling}"

    def _print_missing(self, missing: list[str]) -> None:
        for name in missing:
            why = (
                "configured but not in the chain (AICMO_LLM_PRIMARY_PROVIDER, AICMO_LLM_FALLBACK_PROVIDERS)"
                if is_configured(name)
                else f"not configured ({REQUIREMENT[name]} not set)"
            )
            self.stdout.write(f"  –  {name:<10} {why}")
