"""The rule engine on the multilingual labelled set (issue #20): the benchmark's evaluation, with floors.

The set (tests/leads/labelled_inquiries.jsonl, see LABELLED_SET.md) was written before the
rules were changed; a change that makes the rules worse than the targets fails the build.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.leads.extraction import extract
from benchmarks.lead_extraction_bench import (
    LANGUAGES,
    TARGET_OVERALL,
    TARGET_PER_LANGUAGE,
    evaluate,
    load_labelled,
)

CASES = load_labelled()


def test_the_set_is_large_varied_and_has_a_held_out_fifth():
    assert len(CASES) >= 150
    for lang in LANGUAGES:
        assert sum(case["lang"] == lang for case in CASES) >= 25, lang
    held_out = [case for case in CASES if case["split"] == "heldout"]
    assert len(held_out) >= len(CASES) // 5 - 1
    assert len({case["id"] for case in CASES}) == len(CASES)
    texts = " ".join(case["text"] for case in CASES)
    for form in (
        "2.500",
        "310 000 €",
        "1'200'000 CHF",
        "5,5k",
        "trenta mila",
        "guadagno",
        "ingresos",
        "Salaire net",
        "Nettoeinkommen",
        "take home",
    ):
        assert form.lower() in texts.lower(), form


def test_rule_engine_meets_the_targets_on_the_labelled_set(capsys):
    result = evaluate(CASES)
    with capsys.disabled():
        print(
            f"\nrule engine, {result['inquiries']} labelled inquiries: overall {result['overall']:.1%}",
            {k: f"{v:.1%}" for k, v in result["per_language"].items()},
        )
    assert result["overall"] >= TARGET_OVERALL, result["misses"]
    for lang, accuracy in result["per_language"].items():
        assert accuracy >= TARGET_PER_LANGUAGE, (lang, accuracy)


@pytest.mark.parametrize(
    ("text", "income", "amount"),
    [
        ("Guadagno tra 1.800 e 2.200 € al mese", "2000", None),  # a range: the midpoint
        ("Income is 2,000–2,400 a month", "2200", None),
        ("Ho trenta mila euro da mettere in un conto deposito", None, "30000"),
        ("Je souhaite investir cent mille euros", None, "100000"),
        ("Grüezi, ich möchte 1'200'000 CHF investieren", None, "1200000"),
        ("Vorrei un prestito di 5,5k", None, "5500"),
        ("Je touche 2.450,50 € net par mois", "2450.50", None),
        ("Salaire net 3 200 € par mois", "3200", None),
        ("Jahresgehalt 54.000 €", "4500", None),
    ],
)
def test_local_forms_of_amounts(text, income, amount):
    got = extract(text)
    assert got.monthly_income == (Decimal(income).quantize(Decimal("0.01")) if income else None)
    assert got.requested_amount == (Decimal(amount).quantize(Decimal("0.01")) if amount else None)


def test_a_range_is_read_with_lower_confidence_than_a_single_figure():
    ranged = extract("I earn between 3,000 and 3,600 a month and want a mortgage")
    single = extract("I earn 3,300 a month and want a mortgage")
    assert ranged.monthly_income == single.monthly_income == Decimal("3300.00")
    assert ranged.monthly_income_confidence < single.monthly_income_confidence
    assert ranged.monthly_income_confidence < 0.7  # below the review threshold: a person looks


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("We're buying a flat for £300,000 with a 10% deposit", "270000"),
        ("Nous achetons une maison à 310 000 € avec un apport de 60 000 €", "250000"),
        ("Quiero financiar un coche de 20.000 €, puedo dar una entrada de 5.000 €", "15000"),
        ("Busco hipoteca para una casa de 320.000 €, aportamos 80.000 €", "240000"),
    ],
)
def test_a_price_less_what_is_put_down_is_the_loan(text, amount):
    assert extract(text).requested_amount == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "intent", "purpose"),
    [
        ("My company needs a business loan of £60k for a van", "business_loan", "business"),
        ("Ho un negozio e vorrei un prestito di 35 mila euro", "business_loan", "business"),
        ("Unsere GmbH braucht eine Kreditlinie von 75.000 €", "business_loan", "business"),
        ("I have 8k in savings, what's your best rate?", "deposit", None),
        ("Tengo 50.000 euros ahorrados y quiero un depósito a plazo fijo", "deposit", None),
        ("Need a bridging loan of £150,000 until our house sells", "mortgage", "home_purchase"),
        ("Besoin d'un prêt relais de 180 000 €", "mortgage", "home_purchase"),
        ("how much would I pay monthly for a 25-year mortgage on 180k?", "mortgage", None),
        ("Kann ich einen Dispo von 2.000 € bekommen?", "personal_loan", None),
    ],
)
def test_intent_and_purpose_agree_with_the_banks_products(text, intent, purpose):
    got = extract(text)
    assert (got.intent, got.loan_purpose) == (intent, purpose)
    if "25-year" in text:
        assert got.requested_amount == Decimal("180000")  # a payment question still names the amount
