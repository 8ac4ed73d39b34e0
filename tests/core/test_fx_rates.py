"""FX rates: entered and corrected by administrators only, audited with the old rate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.errors import PermissionDenied
from apps.core.models import AuditEvent
from apps.core.services import save_fx_rate

DAY = dt.date(2026, 3, 2)


def test_an_administrator_enters_and_corrects_a_rate_with_the_old_one_in_the_trail(administrator):
    rate = save_fx_rate(
        actor=administrator, rate_date=DAY, base_currency="GBP", quote_currency="EUR", rate=Decimal("1.17")
    )

    save_fx_rate(
        actor=administrator,
        rate_date=DAY,
        base_currency="GBP",
        quote_currency="EUR",
        rate=Decimal("1.18"),
        fx_rate=rate,
    )

    rate.refresh_from_db()
    assert rate.rate == Decimal("1.18")
    corrected = AuditEvent.objects.get(action="fx_rate.corrected")
    assert corrected.changes == {"rate": ["1.1700000000", "1.18"]}


def test_a_manager_may_not_enter_a_rate(manager):
    with pytest.raises(PermissionDenied):
        save_fx_rate(actor=manager, rate_date=DAY, base_currency="GBP", quote_currency="EUR", rate=Decimal("1.17"))


@pytest.mark.parametrize(
    ("base", "quote", "value"), [("GBP", "GBP", "1"), ("XXX", "EUR", "1"), ("GBP", "EUR", "0"), ("GBP", "EUR", "-2")]
)
def test_a_rate_that_means_nothing_is_refused(administrator, base, quote, value):
    with pytest.raises(ValidationError):
        save_fx_rate(actor=administrator, rate_date=DAY, base_currency=base, quote_currency=quote, rate=Decimal(value))
