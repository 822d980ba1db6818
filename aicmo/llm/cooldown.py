"""A circuit breaker shared by every web and worker process through Django's cache (Redis in production).

One breaker per provider and model (and a separate one for a provider's image model). After
`AICMO_COOLDOWN_FAILURES` availability failures in a row (`ProviderError.is_outage`) the breaker opens for
`AICMO_COOLDOWN_S` seconds, so a dead provider does not cost every call its timeout. The open key holds the
wall-clock time the cooldown ends, so the chain can pick the breaker that closes first for a half-open trial
when every provider is cooling down. One success closes it at once.
"""

import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def breaker_key(provider: str, model: str, *, image: bool = False) -> str:
    """Images have their own breaker: a failing image model must not switch off a provider's text."""
    return f"{provider}:image:{model}" if image else f"{provider}:{model}"


def _failures_key(key: str) -> str:
    return f"aicmo:llm:failures:{key}"


def _open_key(key: str) -> str:
    return f"aicmo:llm:cooldown:{key}"


def breaker_states(keys: Iterable[str]) -> tuple[dict[str, float], set[str]]:
    """(when each open breaker's cooldown ends (epoch seconds), the breakers with anything to clear on a
    success: a failure count or an open cooldown). One cache round trip for the whole chain, so a success on a
    clean breaker, the usual case, costs none."""
    keys = list(keys)
    try:
        found = cache.get_many([_open_key(key) for key in keys] + [_failures_key(key) for key in keys])
    except Exception:  # a cache outage must not stop generation: assume closed
        logger.warning("cooldown cache unavailable", extra={"breakers": keys})
        return {}, set()
    now = time.time()
    until = {key: found.get(_open_key(key)) for key in keys}
    marked = {key for key in keys if _open_key(key) in found or _failures_key(key) in found}
    return {key: float(end) for key, end in until.items() if isinstance(end, int | float) and end > now}, marked


def open_until(keys: Iterable[str]) -> dict[str, float]:
    """For each breaker that is open, when (epoch seconds) its cooldown ends; closed ones are left out."""
    return breaker_states(keys)[0]


def is_cooling_down(key: str) -> bool:
    return key in open_until([key])


def record_success(key: str) -> None:
    """A success closes the breaker at once: the failure count and any open cooldown go."""
    try:
        cache.delete_many([_failures_key(key), _open_key(key)])
    except Exception:
        logger.warning("cooldown cache unavailable", extra={"breaker": key})


def record_failure(key: str, *, reopen: bool = False) -> bool:
    """Count an availability failure; returns True when this one opened the cooldown. `reopen`: a failed
    half-open trial, which opens the cooldown again at once."""
    counter = _failures_key(key)
    try:
        cache.add(counter, 0, timeout=int(settings.AICMO_COOLDOWN_S * 10))
        failures = cache.incr(counter)
        if reopen or failures >= settings.AICMO_COOLDOWN_FAILURES:
            cache.set(_open_key(key), time.time() + settings.AICMO_COOLDOWN_S, timeout=settings.AICMO_COOLDOWN_S)
            cache.delete(counter)
            logger.warning("provider cooling down", extra={"breaker": key, "cooldown_s": settings.AICMO_COOLDOWN_S})
            return True
    except Exception:
        logger.warning("cooldown cache unavailable", extra={"breaker": key})
    return False


def reset(key: str) -> None:
    cache.delete_many([_failures_key(key), _open_key(key)])
