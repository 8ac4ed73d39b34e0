"""The rule engine and the snapshot: pure functions, tested without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.products.eligibility import BUSINESS, INDIVIDUAL, CustomerFacts, ProductRules, evaluate
from apps.products.models import RiskProfile, Segment
from apps.recommendations.rules import CatalogProduct, customer_gates, rule_items
from apps.recommendations.scoring import candidates
from apps.recommendations.snapshot import HoldingFact, InteractionFact, build_snapshot, classify_intents
from apps.recommendations.validation import _PROMISSORY

TODAY = dt.date(2026, 3, 2)
CATEGORIES = ("deposit", "loan", "card", "investment")
KYC = ("pending", "verified", "review_due", "expired", "rejected")

ages = st.none() | st.integers(min_value=0, max_value=110)
incomes = st.none() | st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False)
risks = st.none() | st.sampled_from(RiskProfile.values)
segments = st.sampled_from([*Segment.values, ""])


@st.composite
def customer_facts(draw: st.DrawFn) -> CustomerFacts:
    return CustomerFacts(
        kind=draw(st.sampled_from([INDIVIDUAL, BUSINESS])),
        age=draw(ages),
        annual_income=draw(incomes),
        income_currency=draw(st.sampled_from(["GBP", "EUR", ""])),
        segment=draw(segments),
        risk_profile=draw(risks),
        branch_id=draw(st.none() | st.integers(1, 4)),
        held_product_ids=frozenset(draw(st.sets(st.integers(1, 30), max_size=6))),
    )


@st.composite
def catalog_products(draw: st.DrawFn, product_id: int) -> CatalogProduct:
    low_age = draw(st.none() | st.integers(0, 80))
    high_age = draw(st.none() | st.integers(low_age or 0, 110))
    low_risk = draw(st.none() | st.sampled_from(RiskProfile.values))
    high_risk = draw(st.none() | st.sampled_from([v for v in RiskProfile.values if v >= (low_risk or 1)]))
    rules = ProductRules(
        product_id=product_id,
        is_active=draw(st.booleans()),
        currency=draw(st.sampled_from(["GBP", "EUR"])),
        min_age=low_age,
        max_age=high_age,
        min_annual_income=draw(st.none() | st.decimals(min_value=0, max_value=500_000, places=2, allow_nan=False)),
        eligible_segments=tuple(draw(st.lists(st.sampled_from(Segment.values), max_size=3, unique=True))),
        min_risk_profile=low_risk,
        max_risk_profile=high_risk,
        for_individuals=draw(st.booleans()),
        for_businesses=draw(st.booleans()),
        branch_ids=draw(st.none() | st.frozensets(st.integers(1, 4), min_size=1, max_size=3)),
    )
    rate = draw(st.none() | st.decimals(min_value=-1, max_value=25, places=2, allow_nan=False))
    return CatalogProduct(
        rules=rules,
        code=f"P{product_id:03d}",
        name=f"Product {product_id}",
        category=draw(st.sampled_from(CATEGORIES)),
        rate=rate,
    )


@st.composite
def catalogs(draw: st.DrawFn) -> list[CatalogProduct]:
    size = draw(st.integers(0, 12))
    return [draw(catalog_products(product_id)) for product_id in range(1, size + 1)]


@st.composite
def snapshots(draw: st.DrawFn) -> dict:
    return {
        "consent": {"profiling": draw(st.booleans()), "marketing_channels": []},
        "kyc": {"status": draw(st.sampled_from(KYC)), "review_due": False},
        "relationship_status": draw(st.sampled_from(["prospect", "active", "dormant", "closed"])),
        "holdings": [
            {"category": c, "currency": "GBP", "count": 1, "balance_band": "1k-10k"}
            for c in draw(st.lists(st.sampled_from(["current_account", "loan", "investment"]), max_size=3))
        ],
        "upcoming_maturities": draw(
            st.sampled_from(
                [
                    [],
                    [
                        {
                            "category": "term_deposit",
                            "matures_in": "within 7 days",
                            "amount_band": "10k-50k",
                            "currency": "GBP",
                            "instruction": "renew",
                        }
                    ],
                ]
            )
        ),
        "recent_contacts": {
            "intents": draw(
                st.lists(
                    st.sampled_from(["savings", "borrowing", "cards", "investing", "maturity"]), max_size=3, unique=True
                )
            )
        },
    }


@settings(max_examples=300, deadline=None)
@given(facts=customer_facts(), snapshot=snapshots(), catalog=catalogs())
def test_the_rule_engine_never_proposes_a_product_the_customer_is_not_eligible_for(facts, snapshot, catalog):
    found = candidates(facts=facts, snapshot=snapshot, catalog=catalog)

    by_id = {product.rules.product_id: product for product in catalog}
    gates = customer_gates(snapshot)
    if not gates.open:
        assert found == []
    for candidate in found:
        assert evaluate(facts, by_id[candidate.product_id].rules).eligible
        assert candidate.product_id not in facts.held_product_ids
        assert snapshot["consent"]["profiling"] and snapshot["kyc"]["status"] not in ("expired", "rejected")
    for item in rule_items(found, max_items=3):
        assert not _PROMISSORY.search(item["rationale"])
        assert item["rules_passed"]
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_the_snapshot_reads_no_personal_data_at_all():
    class Customer(SimpleNamespace):
        def __getattr__(self, name: str) -> object:  # only called for attributes not set below
            raise AssertionError(f"the snapshot read {name}")

    customer = Customer(
        kind="individual",
        date_of_birth=dt.date(1980, 5, 17),
        segment="affluent",
        annual_income=Decimal("62000"),
        income_currency="GBP",
        risk_profile=3,
        kyc_status="verified",
        kyc_review_date=dt.date(2026, 3, 20),
        customer_since=dt.date(2019, 4, 1),
        status="active",
    )
    holding = HoldingFact(
        category="term_deposit",
        product_id=1,
        product_code="TD12",
        product_category="deposit",
        currency="GBP",
        balance=Decimal("25000"),
        role="owner",
        status="active",
        maturity_date=dt.date(2026, 3, 20),
        maturity_instruction="renew",
    )

    snapshot = build_snapshot(customer=customer, holdings=[holding], consents=[], interactions=[], today=TODAY)

    assert snapshot["age_band"] == "45-54"
    assert snapshot["income_band"] == "40k-75k"
    assert snapshot["tenure"] == "5-10 years"
    assert snapshot["kyc"] == {"status": "verified", "review_due": True}
    assert snapshot["holdings"] == [
        {"category": "term_deposit", "currency": "GBP", "count": 1, "balance_band": "10k-50k"}
    ]
    assert snapshot["upcoming_maturities"][0]["matures_in"] == "within 30 days"
    assert snapshot["consent"]["profiling"] is False


def test_interactions_become_intent_labels_and_their_words_never_leave():
    interactions = [
        InteractionFact(
            channel="phone", occurred_on=TODAY, subject="Mrs Smith wants a mortgage", next_step="Send ISA rates"
        ),
        InteractionFact(channel="email", occurred_on=TODAY - dt.timedelta(days=400), subject="Credit card"),
    ]
    customer = SimpleNamespace(
        kind="individual",
        date_of_birth=None,
        segment="mass",
        annual_income=None,
        income_currency="GBP",
        risk_profile=None,
        kyc_status="pending",
        kyc_review_date=None,
        customer_since=None,
        status="prospect",
    )

    snapshot = build_snapshot(customer=customer, holdings=[], consents=[], interactions=interactions, today=TODAY)

    assert snapshot["recent_contacts"]["intents"] == [
        "borrowing",
        "home_buying",
        "savings",
    ]  # the old card call is out of the window
    assert snapshot["recent_contacts"]["contacts_by_channel"] == {"phone": 1}
    assert "Smith" not in repr(snapshot)
    assert snapshot["age_band"] == "unknown" and snapshot["income_band"] == "unknown"


def test_keywords_match_word_starts_only():
    assert classify_intents(["A loan for the van"]) == {"borrowing"}
    assert classify_intents(["Discussed the weather"]) == set()  # "the" is not "th…" anything
    assert classify_intents(["Renewal of the term deposit"]) == {"maturity", "savings"}
