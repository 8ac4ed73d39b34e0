"""The profile the advice is based on: PII-free by construction, and a pure function.

`build_snapshot` reads an explicit allow-list of a customer's attributes and turns each into
a coarse fact (age band, income band, bucketed amounts). It never reads a name, national id,
email, phone, address, account number or external id, and it copies no free text: what was
said in interactions becomes a handful of intent labels from a keyword classification of the
subject, outcome and next step. The result is what goes into the prompt, into the profile
hash and onto the Recommendation row, so nothing else about the customer can leak through it.

No database, no clock: the selector loads the inputs and passes "today".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.core.windows import ADVICE_INTENT_DAYS, advice_maturity_days, kyc_review_is_due
from apps.products.eligibility import age_on
from apps.products.models import RiskProfile

# Holdings summarised in the profile: money the customer owns or shares, not what they only
# benefit from or manage for someone else.
SUMMARY_ROLES = ("owner", "joint")

AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"), (75, "65-74"))
INCOME_BANDS = (
    (Decimal(20_000), "under 20k"),
    (Decimal(40_000), "20k-40k"),
    (Decimal(75_000), "40k-75k"),
    (Decimal(150_000), "75k-150k"),
    (Decimal(300_000), "150k-300k"),
)
AMOUNT_BANDS = (
    (Decimal(1_000), "under 1k"),
    (Decimal(10_000), "1k-10k"),
    (Decimal(50_000), "10k-50k"),
    (Decimal(100_000), "50k-100k"),
    (Decimal(250_000), "100k-250k"),
    (Decimal(1_000_000), "250k-1m"),
)
TENURE_BANDS = ((1, "under 1 year"), (3, "1-3 years"), (5, "3-5 years"), (10, "5-10 years"))

# Keyword classification of interaction subjects/outcomes/next steps into intents. Only the
# label leaves this module; the words themselves never do.
INTENT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "savings": ("saving", "savings", "deposit", "interest", "isa", "save "),
    "borrowing": ("loan", "mortgage", "borrow", "overdraft", "credit line", "financing", "remortgage"),
    "cards": ("card", "cashback", "contactless"),
    "investing": ("invest", "fund", "portfolio", "pension", "shares", "stocks", "bond", "wealth"),
    "home_buying": ("mortgage", "remortgage", "house purchase", "buying a home", "buy a home", "first home"),
    "maturity": ("matur", "renew", "rollover", "roll over", "reinvest"),
    "complaint": ("complain", "complaint", "unhappy", "dispute", "refund"),
    "travel_fx": ("travel", "abroad", "foreign currency", "fx", "exchange rate"),
    "business_banking": ("payroll", "merchant", "invoice", "cash flow", "cashflow", "trade finance"),
}
_WORD_CACHE: dict[str, re.Pattern[str]] = {}


@dataclass(frozen=True)
class HoldingFact:
    """One holding as the profile sees it (the selector never loads its number)."""

    category: str
    product_id: int
    product_code: str
    product_category: str
    currency: str
    balance: Decimal
    role: str
    status: str
    maturity_date: dt.date | None = None
    maturity_instruction: str = ""


@dataclass(frozen=True)
class ConsentFact:
    channel: str
    purpose: str
    granted: bool


@dataclass(frozen=True)
class InteractionFact:
    """Structured fields of one interaction; the text fields are only classified, never copied."""

    channel: str
    occurred_on: dt.date
    subject: str = ""
    outcome: str = ""
    next_step: str = ""


def band(value: Decimal | int | None, bands: Sequence[tuple[Any, str]], top: str) -> str:
    if value is None:
        return "unknown"
    for limit, label in bands:
        if value < limit:
            return label
    return top


def risk_label(level: int | None) -> str:
    return str(RiskProfile(level).label).lower() if level in RiskProfile.values else "not assessed"


def age_band(date_of_birth: dt.date | None, today: dt.date) -> str:
    return band(age_on(date_of_birth, today), AGE_BANDS, "75 or over")


def amount_band(amount: Decimal | None) -> str:
    if amount is None:
        return "unknown"
    amount = abs(amount)
    return "none" if amount == 0 else band(amount, AMOUNT_BANDS, "1m or more")


def _years_between(start: dt.date | None, today: dt.date) -> int | None:
    return age_on(start, today) if start else None


def classify_intents(texts: Iterable[str]) -> set[str]:
    """Intent labels whose keywords occur in the texts (lower-cased, word-start match)."""
    found: set[str] = set()
    for text in texts:
        lowered = f" {(text or '').lower()} "
        for intent, words in INTENT_KEYWORDS.items():
            if intent in found:
                continue
            for word in words:
                pattern = _WORD_CACHE.get(word)
                if pattern is None:
                    pattern = _WORD_CACHE[word] = re.compile(r"(?<![a-z])" + re.escape(word))
                if pattern.search(lowered):
                    found.add(intent)
                    break
    return found


def _holdings_summary(holdings: Sequence[HoldingFact]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for holding in holdings:
        if holding.status != "active" or holding.role not in SUMMARY_ROLES:
            continue
        key = (holding.category, holding.currency)
        count, total = totals.get(key, (0, Decimal(0)))
        totals[key] = (count + 1, total + abs(holding.balance or Decimal(0)))
    return [
        {"category": category, "currency": currency, "count": count, "balance_band": amount_band(total)}
        for (category, currency), (count, total) in sorted(totals.items())
    ]


def _maturities(holdings: Sequence[HoldingFact], today: dt.date) -> list[dict[str, Any]]:
    rows = []
    horizon = advice_maturity_days()
    for holding in holdings:
        if holding.status != "active" or holding.maturity_date is None or holding.role not in SUMMARY_ROLES:
            continue
        days = (holding.maturity_date - today).days
        if days < 0 or days > horizon:
            continue
        rows.append(
            {
                "category": holding.category,
                "matures_in": "within 7 days"
                if days <= 7
                else "within 30 days"
                if days <= 30
                else f"within {horizon} days",
                "amount_band": amount_band(holding.balance),
                "currency": holding.currency,
                "instruction": holding.maturity_instruction or "none",
            }
        )
    return sorted(rows, key=lambda r: (r["matures_in"], r["category"], r["amount_band"], r["currency"]))


def _recent_contacts(interactions: Sequence[InteractionFact], today: dt.date) -> dict[str, Any]:
    since = today - dt.timedelta(days=ADVICE_INTENT_DAYS)
    recent = [i for i in interactions if since <= i.occurred_on <= today]
    channels: dict[str, int] = {}
    for interaction in recent:
        channels[interaction.channel] = channels.get(interaction.channel, 0) + 1
    intents = classify_intents(text for i in recent for text in (i.subject, i.outcome, i.next_step))
    return {
        "window_days": ADVICE_INTENT_DAYS,
        "contacts_by_channel": dict(sorted(channels.items())),
        "intents": sorted(intents),
    }


def build_snapshot(
    *,
    customer: Any,
    holdings: Sequence[HoldingFact],
    consents: Sequence[ConsentFact],
    interactions: Sequence[InteractionFact],
    today: dt.date,
) -> dict[str, Any]:
    """The PII-free facts the advice needs about one customer (JSON-ready, deterministic).

    Reads only: kind, date_of_birth (to an age band), segment, annual_income and its currency
    (to a band), risk_profile, kyc_status, kyc_review_date, customer_since, status.
    """
    is_business = customer.kind == "business"
    review_date = customer.kyc_review_date
    marketing = sorted({c.channel for c in consents if c.purpose == "marketing" and c.granted})
    income = customer.annual_income
    return {
        "customer_type": customer.kind,
        "age_band": "not applicable" if is_business else age_band(customer.date_of_birth, today),
        "segment": customer.segment,
        "income_band": band(income, INCOME_BANDS, "300k or more"),
        "income_currency": customer.income_currency if income is not None else "",
        "risk_profile": risk_label(customer.risk_profile),
        "kyc": {
            "status": customer.kyc_status,
            "review_due": kyc_review_is_due(review_date, today=today),
        },
        "relationship_status": customer.status,
        "tenure": band(_years_between(customer.customer_since, today), TENURE_BANDS, "10 years or more"),
        "consent": {
            "profiling": any(c.purpose == "profiling" and c.granted for c in consents),
            "marketing_channels": marketing,
        },
        "holdings": _holdings_summary(holdings),
        "held_product_codes": sorted(
            {h.product_code for h in holdings if h.status == "active" and h.role in SUMMARY_ROLES}
        ),
        "upcoming_maturities": _maturities(holdings, today),
        "recent_contacts": _recent_contacts(interactions, today),
    }
