"""The evaluation catalog: 23 products in three currencies, written through the real services.

Written for the evaluation (not the demo catalog): GBP, EUR and USD deposits, a fixed-rate bond
that pays more than the fixed deposit for two- and three-year terms, a scheduled rate rise on
the fixed deposit (effective RATE_RISE_DAYS after the business date, so a deposit maturing after
it renews at the new rate), loans, cards, investments of every risk band, and business products.
Dates are relative to the business date the caller passes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from apps.products.models import Product
from apps.products.services import add_product_rate, create_product

INDIVIDUAL = ["mass", "affluent", "premium", "private"]
WEALTH = ["affluent", "premium", "private"]
BUSINESS = {"for_individuals": False, "for_businesses": True, "eligible_segments": ["sme", "corporate"]}
RATE_RISE_DAYS = 20
HISTORY_DAYS = 400

# code: (name, category, rules, [(days from today, rate, min_amount, max_amount, min_term, max_term)])
PRODUCTS: dict[str, tuple[str, str, dict[str, Any], list[tuple[int, str, str, str | None, int, int | None]]]] = {
    "CUR-STD": (
        "Standard Current Account",
        "deposit",
        {"eligible_segments": INDIVIDUAL},
        [(-HISTORY_DAYS, "0.05", "0", None, 0, None)],
    ),
    "CUR-PLUS": (
        "Premier Plus Current Account",
        "deposit",
        {"eligible_segments": ["premium", "private"], "min_annual_income": Decimal("75000")},
        [(-HISTORY_DAYS, "0.25", "0", None, 0, None)],
    ),
    "SAV-INSTANT": (
        "Instant Access Saver",
        "deposit",
        {"eligible_segments": INDIVIDUAL, "min_amount": Decimal("1")},
        [
            (-HISTORY_DAYS, "2.50", "1", "10000", 0, None),
            (-HISTORY_DAYS, "2.90", "10000", "100000", 0, None),
            (-HISTORY_DAYS, "3.10", "100000", None, 0, None),
        ],
    ),
    "TD-GBP": (
        "Fixed Term Deposit",
        "deposit",
        {
            "eligible_segments": INDIVIDUAL,
            "min_amount": Decimal("1000"),
            "max_amount": Decimal("2000000"),
            "min_term_months": 3,
            "max_term_months": 60,
            "min_age": 18,
        },
        [
            (-HISTORY_DAYS, "3.80", "1000", "100000", 3, 5),
            (-HISTORY_DAYS, "4.05", "1000", "100000", 6, 11),
            (-HISTORY_DAYS, "4.30", "1000", "100000", 12, 60),
            (-HISTORY_DAYS, "3.95", "100000", None, 3, 5),
            (-HISTORY_DAYS, "4.20", "100000", None, 6, 11),
            (-HISTORY_DAYS, "4.45", "100000", None, 12, 60),
            # The scheduled rise: only the 12-60 month slabs change, from RATE_RISE_DAYS on.
            (RATE_RISE_DAYS, "3.80", "1000", "100000", 3, 5),
            (RATE_RISE_DAYS, "4.05", "1000", "100000", 6, 11),
            (RATE_RISE_DAYS, "4.40", "1000", "100000", 12, 60),
            (RATE_RISE_DAYS, "3.95", "100000", None, 3, 5),
            (RATE_RISE_DAYS, "4.20", "100000", None, 6, 11),
            (RATE_RISE_DAYS, "4.60", "100000", None, 12, 60),
        ],
    ),
    "BOND-GBP": (
        "Fixed Rate Bond",
        "deposit",
        {
            "eligible_segments": INDIVIDUAL,
            "min_amount": Decimal("25000"),
            "max_amount": Decimal("1000000"),
            "min_term_months": 24,
            "max_term_months": 36,
            "min_age": 18,
        },
        [(-HISTORY_DAYS, "4.55", "25000", None, 24, 36)],
    ),
    "TD-EUR": (
        "Euro Fixed Deposit",
        "deposit",
        {
            "currency": "EUR",
            "eligible_segments": INDIVIDUAL,
            "min_amount": Decimal("10000"),
            "min_term_months": 3,
            "max_term_months": 12,
        },
        [(-HISTORY_DAYS, "2.60", "10000", None, 3, 12)],
    ),
    "SAV-EUR": (
        "Euro Instant Saver",
        "deposit",
        {"currency": "EUR", "eligible_segments": INDIVIDUAL, "min_amount": Decimal("1")},
        [(-HISTORY_DAYS, "1.90", "1", None, 0, None)],
    ),
    "TD-USD": (
        "US Dollar Fixed Deposit",
        "deposit",
        {
            "currency": "USD",
            "eligible_segments": [*WEALTH, "mass"],
            "min_amount": Decimal("10000"),
            "min_term_months": 3,
            "max_term_months": 12,
        },
        [(-HISTORY_DAYS, "4.10", "10000", None, 3, 12)],
    ),
    "LOAN-PERS": (
        "Personal Loan",
        "loan",
        {
            "eligible_segments": INDIVIDUAL,
            "min_amount": Decimal("1000"),
            "max_amount": Decimal("35000"),
            "min_term_months": 12,
            "max_term_months": 84,
            "min_age": 18,
            "max_age": 75,
            "min_annual_income": Decimal("15000"),
        },
        [(-HISTORY_DAYS, "6.90", "1000", None, 0, None)],
    ),
    "MORT-HOME": (
        "Home Mortgage",
        "loan",
        {
            "eligible_segments": INDIVIDUAL,
            "min_amount": Decimal("25000"),
            "max_amount": Decimal("2000000"),
            "min_term_months": 60,
            "max_term_months": 420,
            "min_age": 21,
            "max_age": 70,
            "min_annual_income": Decimal("30000"),
        },
        [(-HISTORY_DAYS, "4.49", "25000", None, 0, None)],
    ),
    "CARD-STD": (
        "Everyday Credit Card",
        "card",
        {"eligible_segments": INDIVIDUAL, "min_age": 18, "min_annual_income": Decimal("12000")},
        [(-HISTORY_DAYS, "22.90", "0", None, 0, None)],
    ),
    "CARD-TRAVEL": (
        "World Travel Card",
        "card",
        {"eligible_segments": WEALTH, "min_age": 21, "min_annual_income": Decimal("50000")},
        [(-HISTORY_DAYS, "20.90", "0", None, 0, None)],
    ),
    "INV-GILT": (
        "Government Bond Fund",
        "investment",
        {"min_amount": Decimal("1000"), "min_risk_profile": 1, "max_risk_profile": 3},
        [(-HISTORY_DAYS, "4.20", "1000", None, 0, None)],
    ),
    "INV-ISA": (
        "Stocks and Shares ISA",
        "investment",
        {
            "eligible_segments": INDIVIDUAL,
            "min_amount": Decimal("100"),
            "max_amount": Decimal("20000"),
            "min_age": 18,
            "min_risk_profile": 2,
            "max_risk_profile": 5,
        },
        [(-HISTORY_DAYS, "5.50", "100", None, 0, None)],
    ),
    "INV-MULTI": (
        "Balanced Multi-Asset Fund",
        "investment",
        {"eligible_segments": WEALTH, "min_amount": Decimal("10000"), "min_risk_profile": 3, "max_risk_profile": 4},
        [(-HISTORY_DAYS, "6.10", "10000", None, 0, None)],
    ),
    "INV-DPM": (
        "Discretionary Portfolio Management",
        "investment",
        {
            "eligible_segments": ["premium", "private"],
            "min_amount": Decimal("250000"),
            "min_annual_income": Decimal("150000"),
            "min_risk_profile": 3,
            "max_risk_profile": 5,
        },
        [(-HISTORY_DAYS, "6.80", "250000", None, 0, None)],
    ),
    "BIZ-CUR": ("Business Current Account", "deposit", dict(BUSINESS), [(-HISTORY_DAYS, "0.05", "0", None, 0, None)]),
    "BIZ-NOTICE": (
        "Business 35-Day Notice Account",
        "deposit",
        {**BUSINESS, "min_amount": Decimal("10000")},
        [(-HISTORY_DAYS, "3.40", "10000", None, 0, None)],
    ),
    "BIZ-TD": (
        "Business Fixed Deposit",
        "deposit",
        {
            **BUSINESS,
            "min_amount": Decimal("50000"),
            "max_amount": Decimal("25000000"),
            "min_term_months": 1,
            "max_term_months": 12,
        },
        [
            (-HISTORY_DAYS, "3.90", "50000", "1000000", 1, 5),
            (-HISTORY_DAYS, "4.15", "50000", "1000000", 6, 12),
            (-HISTORY_DAYS, "4.05", "1000000", None, 1, 5),
            (-HISTORY_DAYS, "4.30", "1000000", None, 6, 12),
        ],
    ),
    "BIZ-LOAN": (
        "Business Growth Loan",
        "loan",
        {
            **BUSINESS,
            "min_amount": Decimal("25000"),
            "max_amount": Decimal("5000000"),
            "min_term_months": 12,
            "max_term_months": 120,
        },
        [(-HISTORY_DAYS, "7.50", "25000", None, 0, None)],
    ),
    "BIZ-CARD": ("Business Credit Card", "card", dict(BUSINESS), [(-HISTORY_DAYS, "19.90", "0", None, 0, None)]),
}


def build_catalog(*, today: dt.date) -> dict[str, Product]:
    """Create every product and its dated rate slabs (the system writes them: actor None)."""
    products = {}
    for code, (name, category, rules, rates) in PRODUCTS.items():
        product = create_product(actor=None, code=code, name=name, category=category, **rules)
        for days, rate, low, high, min_term, max_term in rates:
            add_product_rate(
                actor=None,
                product=product,
                effective_from=today + dt.timedelta(days=days),
                rate=Decimal(rate),
                min_amount=Decimal(low),
                max_amount=Decimal(high) if high is not None else None,
                min_term_months=min_term,
                max_term_months=max_term,
            )
        products[code] = product
    return products
