"""Which providers exist, which are configured, and in what order the chain tries them (contract §2)."""

import importlib
import logging
from collections.abc import Callable

from celery.signals import worker_init
from django.conf import settings

from .base import LLMProvider
from .chain import ProviderChain, Recorder, _no_record

logger = logging.getLogger(__name__)

KNOWN_PROVIDERS = ("openai", "anthropic", "groq", "ollama", "offline")
_DEFAULT_ORDER = ("openai", "anthropic", "groq", "ollama")


def offline_allowed() -> bool:
    return bool(settings.DEBUG or settings.AICMO_DEV_STUBS)


def is_configured(name: str) -> bool:
    """A provider without its key (or base URL, for ollama) is never called."""
    return {
        "openai": bool(settings.OPENAI_API_KEY),
        "anthropic": bool(settings.ANTHROPIC_API_KEY),
        "groq": bool(settings.GROQ_API_KEY),
        "ollama": bool(settings.OLLAMA_BASE_URL),
        "offline": offline_allowed(),
    }.get(name, False)


def provider_order() -> list[str]:
    """Primary then fallbacks, as configured, keeping only configured providers, each once."""
    configured = [name for name in _DEFAULT_ORDER if is_configured(name)]
    primary = settings.AICMO_LLM_PRIMARY_PROVIDER or (configured[0] if configured else "offline")
    if settings.AICMO_LLM_FALLBACK_PROVIDERS:
        fallbacks = list(settings.AICMO_LLM_FALLBACK_PROVIDERS)
    else:
        fallbacks = [name for name in (*configured, "offline") if name != primary]
    order: list[str] = []
    for name in (primary, *fallbacks):
        name = name.strip().lower()
        if name not in KNOWN_PROVIDERS:
            logger.warning("unknown provider in configuration ignored", extra={"provider": name})
        elif not is_configured(name):
            logger.info("provider not configured, skipped", extra={"provider": name})
        elif name not in order:
            order.append(name)
    return order


def build_provider(name: str) -> LLMProvider:
    factories: dict[str, Callable[[], LLMProvider]] = {
        "openai": _openai,
        "groq": _groq,
        "ollama": _ollama,
        "anthropic": _anthropic,
        "offline": _offline,
    }
    return factories[name]()


def get_chain(recorder: Recorder = _no_record) -> ProviderChain:
    """A chain built from the current settings (cheap: SDK clients are created lazily and cached)."""
    providers = [_cached_provider(name) for name in provider_order()]
    return ProviderChain(
        providers,
        forced_failures=[n.strip().lower() for n in settings.AICMO_FORCE_LLM_PROVIDER_FAIL],
        recorder=recorder,
        timeout_s=settings.AICMO_LLM_TIMEOUT_S,
        stream_idle_s=settings.AICMO_LLM_STREAM_IDLE_S,
    )


_cache: dict[tuple, LLMProvider] = {}


def _cached_provider(name: str) -> LLMProvider:
    # Keyed by the settings that shape the client, so tests that change settings get a new one.
    key = (
        name,
        settings.OPENAI_API_KEY,
        settings.OPENAI_BASE_URL,
        settings.ANTHROPIC_API_KEY,
        settings.ANTHROPIC_BASE_URL,
        settings.GROQ_API_KEY,
        settings.GROQ_BASE_URL,
        settings.OLLAMA_BASE_URL,
        settings.AICMO_LLM_TIMEOUT_S,
        settings.AICMO_OPENAI_MODEL,
        settings.AICMO_ANTHROPIC_MODEL,
        settings.AICMO_GROQ_MODEL,
        settings.AICMO_OLLAMA_MODEL,
        settings.AICMO_IMAGE_MODEL,
    )
    if key not in _cache:
        _cache[key] = build_provider(name)
    return _cache[key]


_PROVIDER_MODULES = {
    "openai": ".providers.openai",
    "groq": ".providers.openai",
    "ollama": ".providers.openai",
    "anthropic": ".providers.anthropic",
    "offline": ".providers.offline",
}


@worker_init.connect(weak=False)
def preload_providers(**kwargs) -> None:
    """Import the configured providers' SDKs in a Celery worker's main process, before it forks its pool.
    Imported lazily instead, every pool child paid about a second of CPU on its first task (the `openai` and
    `anthropic` packages), so a fresh worker's first run took several times as long (docs/benchmarks.md)."""
    for name in provider_order():
        importlib.import_module(_PROVIDER_MODULES[name], __package__)


def _openai() -> LLMProvider:
    from .providers.openai import OpenAIProvider

    return OpenAIProvider(
        name="openai",
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL or None,
        model=settings.AICMO_OPENAI_MODEL,
        image_model=settings.AICMO_IMAGE_MODEL,
        timeout_s=settings.AICMO_LLM_TIMEOUT_S,
    )


def _groq() -> LLMProvider:
    from .providers.openai import OpenAIProvider

    return OpenAIProvider(
        name="groq",
        api_key=settings.GROQ_API_KEY,
        base_url=settings.GROQ_BASE_URL,
        model=settings.AICMO_GROQ_MODEL,
        image_model=None,
        timeout_s=settings.AICMO_LLM_TIMEOUT_S,
    )


def _ollama() -> LLMProvider:
    from .providers.openai import OpenAIProvider

    # Local servers ignore the key, but the SDK insists on one.
    return OpenAIProvider(
        name="ollama",
        api_key="ollama",
        base_url=settings.OLLAMA_BASE_URL,
        model=settings.AICMO_OLLAMA_MODEL,
        image_model=None,
        timeout_s=settings.AICMO_LLM_TIMEOUT_S,
    )


def _anthropic() -> LLMProvider:
    from .providers.anthropic import AnthropicProvider

    return AnthropicProvider(
        api_key=settings.ANTHROPIC_API_KEY,
        base_url=settings.ANTHROPIC_BASE_URL or None,
        model=settings.AICMO_ANTHROPIC_MODEL,
        timeout_s=settings.AICMO_LLM_TIMEOUT_S,
    )


def _offline() -> LLMProvider:
    from .providers.offline import OfflineProvider

    return OfflineProvider()
