"""Which FX rate converts an amount to the reporting currency on a date: the one home.

The bank loads its rates (`import_fx_rates`, or Django admin); FinPulse never makes one up. A
rate converts `base` to `quote` only if the bank stated exactly that pair: no inverse (1/rate
is not the bank's selling rate), no cross rate through a third currency, no rate older than
FINPULSE_FX_RATE_MAX_AGE_DAYS before the date. Whatever has no such rate is *missing*: reports
show the amount in its own currency and say that no rate was loaded, they never guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from apps.core.models import FxRate

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Conversion:
    """The rate used for one currency: `rate` None when none was loaded (the amount is missing)."""

    currency: str
    reporting_currency: str
    rate: Decimal | None
    rate_date: dt.date | None

    @property
    def is_missing(self) -> bool:
        return self.rate is None

    def convert(self, amount: Decimal) -> Decimal | None:
        """The amount in the reporting currency, to the cent; None when no rate was loaded."""
        if self.rate is None:
            return None
        return (amount * self.rate).quantize(_CENT)


def reporting_currency() -> str:
    return str(settings.FINPULSE_REPORTING_CURRENCY)


def fx_rate_max_age_days() -> int:
    return int(settings.FINPULSE_FX_RATE_MAX_AGE_DAYS)


def conversions_on(*, currencies: Iterable[str], to: str, on: dt.date) -> dict[str, Conversion]:
    """For each currency, the newest loaded rate to `to` dated on or before `on` (and no older
    than the allowed age); the reporting currency itself converts at 1. One query."""
    wanted = sorted(set(currencies))
    result = {code: Conversion(code, to, None, None) for code in wanted}
    if to in result:
        result[to] = Conversion(to, to, Decimal(1), on)
    others = [code for code in wanted if code != to]
    if others:
        oldest = on - dt.timedelta(days=fx_rate_max_age_days())
        rows = (
            FxRate.objects.filter(quote_currency=to, base_currency__in=others, rate_date__lte=on, rate_date__gte=oldest)
            .order_by("base_currency", "-rate_date")
            .distinct("base_currency")
            .values_list("base_currency", "rate", "rate_date")
        )
        for base, rate, rate_date in rows:
            result[base] = Conversion(base, to, rate, rate_date)
    return result


def quoted_currencies() -> list[str]:
    """Currencies the bank has loaded rates *to* (the choices of a reporting currency). One query."""
    return list(FxRate.objects.order_by("quote_currency").values_list("quote_currency", flat=True).distinct())
