"""A circuit breaker shared by every web and worker process through Django's cache (Redis in production).

After `AICMO_COOLDOWN_FAILURES` failures in a row a provider is skipped for `AICMO_COOLDOWN_S` seconds,
so a dead provider does not cost every call its timeout. One success closes it again.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _failures_key(provider: str) -> str:
    return f"aicmo:llm:failures:{provider}"


def _open_key(provider: str) -> str:
    return f"aicmo:llm:cooldown:{provider}"


def is_cooling_down(provider: str) -> bool:
    try:
        return bool(cache.get(_open_key(provider)))
    except Exception:  # a cache outage must not stop generation: assume closed
        logger.warning("cooldown cache unavailable", extra={"provider": provider})
        return False


def record_success(provider: str) -> None:
    try:
        cache.delete(_failures_key(provider))
    except Exception:
        logger.warning("cooldown cache unavailable", extra={"provider": provider})


def record_failure(provider: str) -> bool:
    """Count a failure; returns True when this failure opened the cooldown."""
    key = _failures_key(provider)
    try:
        cache.add(key, 0, timeout=int(settings.AICMO_COOLDOWN_S * 10))
        failures = cache.incr(key)
        if failures >= settings.AICMO_COOLDOWN_FAILURES:
            cache.set(_open_key(provider), True, timeout=settings.AICMO_COOLDOWN_S)
            cache.delete(key)
            logger.warning(
                "provider cooling down", extra={"provider": provider, "cooldown_s": settings.AICMO_COOLDOWN_S}
            )
            return True
    except Exception:
        logger.warning("cooldown cache unavailable", extra={"provider": provider})
    return False


def reset(provider: str) -> None:
    cache.delete_many([_failures_key(provider), _open_key(provider)])
