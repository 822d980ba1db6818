"""DRF throttles that fail open: with the cache (Redis) down, requests are let through rather than answered
500. Throttles pace honest clients; cost caps belong in the database."""

import logging

from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class CacheSafeScopedRateThrottle(ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("throttle cache unavailable, request allowed", extra={"scope": self.scope})
            return True
