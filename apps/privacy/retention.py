"""Retention holds: which of a customer's records the bank must keep, and until when.

One home for the rule (docs/compliance.md): each record type has a legal basis and a number of
years after the relationship ends, read from settings (FINPULSE_RETENTION_YEARS, one variable
per record type). While a hold runs, an erasure is deferred and the customer is restricted
(GDPR Art. 17(3)(b) and Art. 18): kept, hidden from every surface but compliance's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from apps.accounts.models import HoldingParty
from apps.customers.models import Customer

# What each record type is and the rule that makes the bank keep it.
HOLD_RULES = {
    "kyc_documents": (
        "Identity documents and due-diligence data",
        "Anti-money-laundering record keeping (EU AMLD Art. 40, UK MLR 2017 reg. 40)",
    ),
    "holdings": (
        "Holding and transaction records",
        "Accounting and limitation-period record keeping for the bank's products",
    ),
}


@dataclass(frozen=True)
class Hold:
    record_type: str
    records: int
    until: dt.date
    rule: str
    label: str

    def as_json(self) -> dict[str, object]:
        return {
            "record_type": self.record_type,
            "label": self.label,
            "records": self.records,
            "until": self.until.isoformat(),
            "rule": self.rule,
        }


def retention_years(record_type: str) -> int:
    return int(settings.FINPULSE_RETENTION_YEARS.get(record_type, 0))


def years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


def retention_holds(*, customer: Customer, relationship_ended_on: dt.date) -> list[Hold]:
    """Every hold on this customer's records, running or not (a count of 0 holds nothing)."""
    counts = {
        "kyc_documents": customer.documents.count(),
        "holdings": HoldingParty.objects.filter(customer=customer).count(),
    }
    holds = []
    for record_type, (label, rule) in HOLD_RULES.items():
        years = retention_years(record_type)
        if counts[record_type] and years > 0:
            until = years_after(relationship_ended_on, years)
            holds.append(Hold(record_type, counts[record_type], until, f"{rule}: {years} years", label))
    return holds


def running_holds(holds: list[Hold], *, today: dt.date) -> list[Hold]:
    return [hold for hold in holds if hold.until > today]
