"""The rule engine: per-field accuracy over realistic inquiries, and the forms amounts come in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.leads.extraction import RULES_MAX_CONFIDENCE, extract, redact_contact_details
from tests.leads.inquiries import FIELDS, INQUIRIES
from tests.leads.inquiries_heldout import HELD_OUT


def _accuracy(cases: list[dict]) -> dict[str, float]:
    right = dict.fromkeys(FIELDS, 0)
    for case in cases:
        got = extract(case["text"])
        read = {
            "intent": got.intent,
            "monthly_income": got.monthly_income,
            "requested_amount": got.requested_amount,
            "loan_purpose": got.loan_purpose,
            "constraints": frozenset(got.constraints),
        }
        for name in FIELDS:
            right[name] += read[name] == case[name]
    return {name: right[name] / len(cases) for name in FIELDS}


def test_the_fixture_has_at_least_sixty_varied_inquiries():
    assert len(INQUIRIES) >= 60
    texts = " ".join(case["text"] for case in INQUIRIES)
    for form in ("2.5k", "€250,000", "1,800 a month", "half a million", "30k", "grand", "quid"):
        assert form in texts, form
    assert sum(case["requested_amount"] is None for case in INQUIRIES) >= 10  # missing fields
    assert sum(case["intent"] == "other" for case in INQUIRIES) >= 7  # off-topic (one became business_loan)


# Floors set from the measured figures (stated in docs/leads.md), a little below them so that a
# change that makes the rules worse fails, while a harmless relabelling of one case does not.
TUNING_FLOORS = {
    "intent": 0.95,
    "monthly_income": 0.95,
    "requested_amount": 0.95,
    "loan_purpose": 0.95,
    "constraints": 0.95,
}
HELD_OUT_FLOORS = {
    "intent": 0.73,
    "monthly_income": 0.86,
    "requested_amount": 0.70,
    "loan_purpose": 0.76,
    "constraints": 0.80,
}


def test_rule_engine_field_accuracy_on_the_fixture(capsys):
    accuracy = _accuracy(INQUIRIES)
    with capsys.disabled():
        print(
            f"\nrule engine accuracy, {len(INQUIRIES)} fixture inquiries: ",
            {k: f"{v:.1%}" for k, v in accuracy.items()},
        )
    for name, floor in TUNING_FLOORS.items():
        assert accuracy[name] >= floor, (name, accuracy[name])


def test_rule_engine_field_accuracy_on_held_out_inquiries(capsys):
    """Phrasing the rules were not written against: the honest figure."""
    accuracy = _accuracy(HELD_OUT)
    with capsys.disabled():
        print(
            f"\nrule engine accuracy, {len(HELD_OUT)} held-out inquiries: ",
            {k: f"{v:.1%}" for k, v in accuracy.items()},
        )
    for name, floor in HELD_OUT_FLOORS.items():
        assert accuracy[name] >= floor, (name, accuracy[name])


@pytest.mark.parametrize(
    ("text", "amount", "income", "currency"),
    [
        ("I need 2.5k", "2500", None, ""),
        ("Looking for a mortgage of €250,000", "250000", None, "EUR"),
        ("I need a loan of 5000, I earn £1,800 a month", "5000", "1800", "GBP"),
        ("Personal loan of 8k please, salary 30k per year", "8000", "2500", ""),
        ("Want to invest half a million", "500000", None, ""),
        ("Borrow 22.000 € for a car, I make 2.600 € per month", "22000", "2600", "EUR"),
        ("Need 1.450,00 euros, I earn 900 pw", "1450", "3900", "EUR"),
        ("Could I borrow twenty thousand pounds", "20000", None, "GBP"),
        ("I earn between 2-4k monthly and want a card", None, "3000", ""),  # a range: its midpoint
        ("I'm paid £450 per day, need a 10k loan", "10000", None, ""),
        ("Mortgage with £1,800 a month repayments", None, None, ""),
    ],
)
def test_amounts_are_read_in_the_forms_people_write_them(text, amount, income, currency):
    got = extract(text)
    assert got.requested_amount == (Decimal(amount) if amount else None)
    assert got.monthly_income == (Decimal(income).quantize(Decimal("0.01")) if income else None)
    assert got.currency == currency


def test_missing_fields_stay_empty_and_are_never_guessed():
    got = extract("Hello, please call me back about a mortgage.")
    assert got.requested_amount is None
    assert got.monthly_income is None
    assert got.loan_purpose is None


def test_rule_engine_confidence_never_exceeds_its_cap():
    for case in INQUIRIES:
        assert max(extract(case["text"]).confidences().values()) <= RULES_MAX_CONFIDENCE


def test_intent_and_constraints_from_keywords():
    got = extract("I would like to buy a home, but I have a fixed-term contract.")
    assert got.intent == "mortgage"
    assert "fixed_term_contract" in got.constraints


def test_contact_details_are_redacted_but_amounts_survive():
    text = "I'm Jane Smith, jane.smith@mail.example, 07700 900123 or +44 (0)20 7946 0958. I need £2,500 or 250,000."
    redacted = redact_contact_details(text, names=["Jane Smith"])
    for secret in ("jane.smith@", "07700", "7946", "Jane", "Smith"):
        assert secret not in redacted
    assert "£2,500" in redacted and "250,000" in redacted
