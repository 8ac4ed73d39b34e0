"""Redis down: the cache answers misses and each failed call logs one warning line (issue #16, 11)."""

from __future__ import annotations

import logging

from django.core.cache import cache

from tests.notifications.realservices import free_port


def test_each_failed_cache_call_logs_one_warning_line_without_a_traceback(redis_url, settings, caplog):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }
    caplog.set_level(logging.DEBUG)

    cache.set("probe", "value")
    value = cache.get("probe")

    assert value is None
    failures = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(failures) == 2, [r.getMessage() for r in failures]
    for record in failures:
        assert record.levelno == logging.WARNING
        assert record.exc_info is None and record.exc_text is None
        assert "\n" not in record.getMessage()
        assert "Connection" in record.getMessage()
