"""Writes to core records: the business calendar, FX rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from apps.core.audit import record_audit_event
from apps.core.business_date import forget_cached_override
from apps.core.errors import PermissionDenied
from apps.core.models import BusinessCalendar, FxRate

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


@transaction.atomic
def set_business_date(*, actor: AbstractBaseUser | None, pinned_date: dt.date | None) -> BusinessCalendar:
    """Pin "today" for every bank rule (maturity windows, overdue tasks, KYC expiry), or unpin it.

    Only an administrator may do this (or the system, actor None): a pinned date moves every
    scan and reminder at once, so it is audited like any other write.
    """
    # The role lives on identity's user model, which core does not import.
    if actor is not None and not getattr(actor, "is_administrator", False):
        raise PermissionDenied("Only an administrator may pin the business date.")
    calendar, _ = BusinessCalendar.objects.select_for_update().get_or_create(pk=1)
    before = calendar.pinned_date
    calendar.pinned_date = pinned_date
    calendar.save()
    record_audit_event(
        actor=actor,
        action="business_date.pinned" if pinned_date else "business_date.unpinned",
        target=calendar,
        changes={"pinned_date": [before, pinned_date]} if before != pinned_date else {},
    )
    # This process sees the new date at once; after commit the cache is dropped again, so a
    # read made inside this transaction cannot keep a value that a rollback would undo.
    forget_cached_override()
    transaction.on_commit(forget_cached_override)
    return calendar


@transaction.atomic
def save_fx_rate(
    *,
    actor: AbstractBaseUser | None,
    rate_date: dt.date,
    base_currency: str,
    quote_currency: str,
    rate: Decimal,
    source: str = "",
    fx_rate: FxRate | None = None,
) -> FxRate:
    """Enter an FX rate, or correct one (`fx_rate`): administrators only, audited with the change.

    Reports convert with what is stored here (apps.core.fx), so a correction changes past
    reports: the audit event keeps the rate they used before.
    """
    if actor is not None and not getattr(actor, "is_administrator", False):
        raise PermissionDenied("Only an administrator may enter FX rates.")
    if fx_rate is not None:
        fx_rate = FxRate.objects.select_for_update().get(pk=fx_rate.pk)
    target = fx_rate or FxRate()
    before = {name: getattr(target, name) for name in ("rate_date", "base_currency", "quote_currency", "rate")}
    target.rate_date = rate_date
    target.base_currency = base_currency
    target.quote_currency = quote_currency
    target.rate = rate
    target.source = source
    target.full_clean()
    target.save()
    changes = {
        name: [str(old) if old is not None else None, str(getattr(target, name))]
        for name, old in before.items()
        if old != getattr(target, name)
    }
    record_audit_event(
        actor=actor, action="fx_rate.corrected" if fx_rate else "fx_rate.entered", target=target, changes=changes
    )
    return target
