"""The Redis cache backend: django-redis, with one warning line per failed call.

With IGNORE_EXCEPTIONS the cache degrades to misses while Redis is down, but django-redis logs
each ignored error with `logger.exception`: a 30-line traceback per cache call, thousands a
minute, burying every other log line. Here each failed call logs one line naming the operation
and the error.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django_prometheus.cache.backends.redis import RedisCache

logger = logging.getLogger("finpulse.cache")


class _OneLineLogger:
    """Stands in for django-redis's logger: `exception()` becomes a one-line warning."""

    def exception(self, message: str, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        cause = getattr(error, "__cause__", None) or error
        logger.warning("Cache unavailable, answered as a miss: %s: %s", type(cause).__name__, cause)

    error = exception  # django-prometheus's get() logs through error(), also inside the except


class DegradingRedisCache(RedisCache):
    """django-redis (with django-prometheus's hit/miss counters) whose ignored errors log one
    warning line each, no traceback."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        if self._ignore_exceptions:
            self._log_ignored_exceptions = True
            self.logger = _OneLineLogger()  # type: ignore[assignment]
