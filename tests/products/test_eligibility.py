"""The rule engine is pure: facts in, verdict and reasons out, no database."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.products.eligibility import CustomerFacts, ProductRules, age_on, describe_rules, evaluate
from apps.products.models import Product


def rules(**kwargs):
    return ProductRules(product_id=kwargs.pop("product_id", 1), currency="GBP", **kwargs)


def facts(**kwargs):
    base = {
        "age": 40,
        "annual_income": Decimal("50000"),
        "income_currency": "GBP",
        "segment": "mass",
        "risk_profile": 3,
    }
    return CustomerFacts(**{**base, **kwargs})


def test_age_counts_completed_years_on_the_business_date():
    assert age_on(dt.date(2000, 3, 10), dt.date(2026, 3, 9)) == 25
    assert age_on(dt.date(2000, 3, 10), dt.date(2026, 3, 10)) == 26
    assert age_on(dt.date(2004, 2, 29), dt.date(2026, 2, 28)) == 21
    assert age_on(None, dt.date(2026, 1, 1)) is None


@pytest.mark.parametrize(("age", "eligible"), [(17, False), (18, True), (65, True), (66, False)])
def test_age_limits_are_inclusive(age, eligible):
    result = evaluate(facts(age=age), rules(min_age=18, max_age=65))

    assert result.eligible is eligible
    if not eligible:
        assert result.failed == [f"Age {age} is outside the limit: the product is for customers aged 18 to 65."]


def test_an_unknown_date_of_birth_fails_an_age_rule_with_a_reason():
    result = evaluate(facts(age=None), rules(min_age=18))

    assert not result.eligible
    assert "Date of birth unknown" in result.failed[0]


def test_income_below_the_minimum_fails_with_both_amounts():
    result = evaluate(facts(annual_income=Decimal("20000")), rules(min_annual_income=Decimal("30000")))

    assert result.failed == ["Annual income GBP 20,000 is below the minimum of GBP 30,000."]


def test_income_at_the_minimum_passes():
    result = evaluate(facts(annual_income=Decimal("30000")), rules(min_annual_income=Decimal("30000")))

    assert result.eligible
    assert "Annual income GBP 30,000 meets the minimum of GBP 30,000." in result.passed


def test_unknown_income_or_income_in_another_currency_is_not_treated_as_enough():
    assert "Income unknown" in evaluate(facts(annual_income=None), rules(min_annual_income=Decimal(1))).failed[0]
    other = evaluate(facts(income_currency="EUR"), rules(min_annual_income=Decimal(1)))
    assert not other.eligible
    assert "EUR" in other.failed[0]


def test_a_segment_outside_the_list_fails_naming_the_allowed_segments():
    result = evaluate(facts(segment="mass"), rules(eligible_segments=("premium", "private")))

    assert result.failed == ["Segment Mass is not eligible (only Premium, Private banking)."]


@pytest.mark.parametrize(("risk", "eligible"), [(2, False), (3, True), (4, True), (5, False)])
def test_risk_profile_must_be_within_the_products_range(risk, eligible):
    result = evaluate(facts(risk_profile=risk), rules(min_risk_profile=3, max_risk_profile=4))

    assert result.eligible is eligible
    if not eligible:
        assert "does not suit the product" in result.failed[0]


def test_a_business_cannot_have_an_individuals_product_and_has_no_age():
    company = facts(kind="business", age=None)

    result = evaluate(company, rules(min_age=18, for_individuals=True, for_businesses=False))

    assert result.failed == ["Only for individual customers."]


def test_an_individual_cannot_have_a_business_product():
    result = evaluate(facts(), rules(for_individuals=False, for_businesses=True))

    assert result.failed == ["Only for business customers."]


def test_branch_availability_and_products_already_held():
    result = evaluate(facts(branch_id=7, held_product_ids=frozenset({1})), rules(branch_ids=frozenset({8})))

    assert result.failed == ["Not offered at the customer's branch.", "Already holds this product."]


def test_every_failed_rule_is_reported_not_only_the_first():
    result = evaluate(
        facts(age=16, annual_income=Decimal(100), segment="mass", risk_profile=1),
        rules(min_age=18, min_annual_income=Decimal(1000), eligible_segments=("premium",), min_risk_profile=3),
    )

    assert len(result.failed) == 4


def test_rules_are_read_from_an_unsaved_product_too():
    product = Product(code="X", name="X", category="deposit", currency="GBP", min_age=21)

    assert not evaluate(facts(age=20), product).eligible
    assert "Individuals aged 21 or over." in describe_rules(product)
