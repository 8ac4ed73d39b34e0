"""One answer to "what is today?" for every bank rule.

Maturity windows, overdue tasks and KYC expiry all ask `business_today()`, so a scan can be
replayed for a given date and tests can move time. The date can be pinned by the
FINPULSE_BUSINESS_DATE setting or by an administrator in Django admin (BusinessCalendar).
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.utils import timezone

_CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, dt.date | None]] = {}


def _admin_override() -> dt.date | None:
    cached = _cache.get("override")
    now = time.monotonic()
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    from apps.core.models import BusinessCalendar

    row = BusinessCalendar.objects.filter(pk=1).values_list("pinned_date", flat=True).first()
    _cache["override"] = (now, row)
    return row


def forget_cached_override() -> None:
    _cache.clear()


def business_today() -> dt.date:
    pinned = settings.FINPULSE_BUSINESS_DATE
    if pinned:
        return dt.date.fromisoformat(str(pinned))
    return _admin_override() or timezone.localdate()


def business_day_end(day: dt.date) -> dt.datetime:
    """The last moment of a business day in the bank's time zone.

    A task a rule creates for a deadline is due then: "due on the 14th" means the manager has
    all of the 14th, so it is never overdue on the day it is created (docs/decisions.md).
    """
    next_day = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return next_day - dt.timedelta(seconds=1)
