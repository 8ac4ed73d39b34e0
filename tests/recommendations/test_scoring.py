"""Ranking by fit (apps.recommendations.scoring): pure, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from apps.products.eligibility import CustomerFacts, ProductRules
from apps.recommendations.rules import CatalogProduct
from apps.recommendations.scoring import Maturity, Offer, Situation, candidates, product_kind

TODAY = dt.date(2026, 12, 4)
SNAPSHOT = {"consent": {"profiling": True}, "kyc": {"status": "verified"}, "recent_contacts": {"intents": []}}


def _product(pid: int, code: str, category: str, rate: str | None, **kwargs) -> CatalogProduct:  # type: ignore[no-untyped-def]
    terms = kwargs.pop("terms", (None, None))
    currency = kwargs.pop("currency", "GBP")
    rate_value = Decimal(rate) if rate is not None else None
    return CatalogProduct(
        rules=ProductRules(product_id=pid, currency=currency, **kwargs),
        code=code,
        name=code.title(),
        category=category,
        rate=rate_value,
        kind=product_kind(category=category, rate=rate_value, min_term_months=terms[0], max_term_months=terms[1]),
        currency=currency,
    )


CATALOG = [
    _product(1, "EASY", "deposit", "3.15"),
    _product(2, "FIXED", "deposit", "4.50", terms=(3, 60)),
    _product(3, "EURFIX", "deposit", "2.10", terms=(3, 12), currency="EUR"),
    _product(4, "CURRENT", "deposit", "0.10"),
    _product(5, "GILT", "investment", "4.30", min_risk_profile=1, max_risk_profile=3),
    _product(6, "GROWTH", "investment", "6.80", min_risk_profile=4, max_risk_profile=5),
    _product(7, "CARD", "card", "22.90"),
]


def _maturing(amount: str, *, currency: str = "GBP", offers: tuple[Offer, ...]) -> Situation:
    return Situation(
        today=TODAY,
        maturities=(
            Maturity(
                kind="term_deposit",
                product_id=2,
                currency=currency,
                amount=Decimal(amount),
                maturity_date=dt.date(2026, 12, 11),
                term_months=12,
                offers=offers,
            ),
        ),
        liquid={"GBP": Decimal("18400")},
        current={"GBP": Decimal("18400")},
        held_kinds=frozenset({"term_deposit", "current_account"}),
        held_currencies=frozenset({"GBP", currency}),
    )


def test_a_maturing_deposit_ranks_its_renewal_first_at_the_rate_on_the_maturity_date_in_its_currency():
    situation = _maturing(
        "253500", offers=(Offer(product_id=1, rate=Decimal("3.15"), term_months=None), Offer(2, Decimal("4.35"), 12))
    )
    facts = CustomerFacts(segment="private", risk_profile=3, held_product_ids=frozenset({2, 4}))

    found = candidates(facts=facts, snapshot=SNAPSHOT, catalog=CATALOG, situation=situation)

    assert [c.code for c in found[:2]] == ["FIXED", "EASY"]  # best rate first; the maturing product renews
    assert found[0].reason == "GBP 253,500 fixed deposit matures on 11 Dec; 12-month renewal at 4.35%."
    assert found[1].reason == "GBP 253,500 fixed deposit matures on 11 Dec; Easy at 3.15% on that date."
    assert "EURFIX" not in [c.code for c in found[:3]]  # another currency is not a place for sterling
    assert len({c.reason for c in found}) == len(found)


def test_a_low_yield_product_is_never_proposed_for_a_large_balance():
    facts = CustomerFacts(segment="private", risk_profile=3)
    large = Situation(today=TODAY, liquid={"GBP": Decimal("60000")}, current={"GBP": Decimal("60000")})
    small = Situation(today=TODAY, liquid={"GBP": Decimal("900")}, held_kinds=frozenset({"savings_account"}))

    with_large = [c.code for c in candidates(facts=facts, snapshot=SNAPSHOT, catalog=CATALOG, situation=large)]
    with_small = [c.code for c in candidates(facts=facts, snapshot=SNAPSHOT, catalog=CATALOG, situation=small)]

    assert "CURRENT" not in with_large
    assert "CURRENT" in with_small


def test_a_product_duplicating_a_holding_drops():
    facts = CustomerFacts(segment="mass", risk_profile=2)
    situation = Situation(
        today=TODAY, liquid={"GBP": Decimal("4000")}, held_kinds=frozenset({"savings_account", "credit_card"})
    )

    codes = [c.code for c in candidates(facts=facts, snapshot=SNAPSHOT, catalog=CATALOG, situation=situation)]

    assert "EASY" not in codes and "CARD" not in codes  # a second saver, a second credit card
    assert "FIXED" in codes


def test_risk_profile_decides_which_investment_comes_first():
    money = Situation(today=TODAY, liquid={"GBP": Decimal("80000")}, held_kinds=frozenset({"savings_account"}))

    cautious = candidates(
        facts=CustomerFacts(segment="premium", risk_profile=1), snapshot=SNAPSHOT, catalog=CATALOG, situation=money
    )
    bold = candidates(
        facts=CustomerFacts(segment="premium", risk_profile=5), snapshot=SNAPSHOT, catalog=CATALOG, situation=money
    )
    unassessed = candidates(
        facts=CustomerFacts(segment="premium", risk_profile=None), snapshot=SNAPSHOT, catalog=CATALOG, situation=money
    )

    assert [c.code for c in cautious if c.category == "investment"] == ["GILT"]
    assert [c.code for c in bold if c.category == "investment"] == ["GROWTH"]
    assert [c.code for c in unassessed if c.category == "investment"] == []


def test_an_explicit_ask_outranks_an_inferred_need():
    snapshot = {**SNAPSHOT, "recent_contacts": {"intents": ["cards"]}}
    idle = Situation(today=TODAY, liquid={"GBP": Decimal("30000")}, current={"GBP": Decimal("30000")})

    found = candidates(
        facts=CustomerFacts(segment="mass", risk_profile=2), snapshot=snapshot, catalog=CATALOG, situation=idle
    )

    assert found[0].code == "CARD"
    assert found[0].reason == "Recent contacts were about cards; Card at 22.90%."
