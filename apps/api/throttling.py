"""Per-client throttling through the cache (Redis in production): one bucket per API key or user."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.api.authentication import client_id


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def get_rate(self) -> str | None:
        # Read at call time (DRF caches rates at import), so settings changes take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # unauthenticated requests get 401 before doing any work
        return self.cache_format % {"scope": self.scope, "ident": client_id(request)}
