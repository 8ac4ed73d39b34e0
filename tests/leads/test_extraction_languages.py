"""Issue #20, lead qualification items 6-8: the rule engine reads inquiries the way people write them.

Each case is a sentence written for these tests (not taken from the labelled or blind sets); the
rule engine is the real one, with its real vocabulary tables and text2num.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.leads import extraction, vocabulary
from apps.leads.extraction import extract, guess_language
from benchmarks.lead_extraction_bench import FRESH, LANGUAGES, TARGET_PER_LANGUAGE, evaluate, load_labelled


def _money(value: str | None) -> Decimal | None:
    return Decimal(value).quantize(Decimal("0.01")) if value is not None else None


# --- Item 6: languages, local separators, currency words, spelled numbers ----------------------


def test_every_vocabulary_table_speaks_the_five_languages():
    tables = {
        name: table
        for name, table in vars(vocabulary).items()
        if name.isupper() and isinstance(table, dict) and name not in ("VOCAB", "MULTIPLIERS", "CURRENCY_WORDS")
    }
    tables |= {f"VOCAB[{concept}]": words for concept, words in vocabulary.VOCAB.items()}
    tables |= {f"INTENT_WORDS[{i}]": words for i, (_, _, words) in enumerate(vocabulary.INTENT_WORDS)}
    tables |= {f"PURPOSE_WORDS[{purpose}]": words for purpose, words in vocabulary.PURPOSE_WORDS}
    assert set(vocabulary.LANGUAGES) == set(LANGUAGES)
    for name, table in tables.items():
        assert set(table) == set(LANGUAGES), name
        assert all(table[lang] for lang in LANGUAGES), name


def test_the_extraction_module_holds_no_words_of_its_own():
    """Vocabulary is data: the extraction module builds patterns from the tables, it lists no words."""
    with open(extraction.__file__, encoding="utf-8") as module:
        source = module.read()
    for word in (
        "bakery",
        "ditta",
        "tienda",
        "mutuo",
        "hipoteca",
        "festgeld",
        "livret",
        "wedding",
        "quid",
        "repayments",
    ):
        assert word not in source, word


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("We've made an offer on a flat and need a mortgage", "en"),
        ("Vorrei un mutuo per la prima casa, ho un contratto a tempo indeterminato", "it"),
        ("Quiero una hipoteca para un piso en Valencia", "es"),
        ("Je voudrais un prêt pour acheter une maison avec mon mari", "fr"),
        ("Ich möchte eine Wohnung kaufen und brauche einen Kredit", "de"),
    ],
)
def test_the_language_is_guessed_from_frequent_words(text, language):
    assert guess_language(text) == language


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Can you give me a personal loan of two thousand five hundred pounds?", "2500"),
        ("Vorrei investire mezzo milione in un portafoglio bilanciato", "500000"),
        ("Necesito treinta mil euros para reformar la cocina", "30000"),
        ("Je voudrais placer cent mille euros sur un compte à terme", "100000"),
        ("Ich brauche zehntausend Euro für eine neue Küche", "10000"),
        ("Quiero invertir 30 mil euros en fondos", "30000"),  # digits with a word multiplier
        ("Ich möchte 250'000 CHF anlegen", "250000"),
        ("I want to put $50k into ETFs", "50000"),
        ("Vorrei un prestito di 7.500,50 euro", "7500.50"),
        ("Je voudrais emprunter 12\u202f000 € pour des travaux", "12000"),
        ("Prestito di 195mila euro per comprare casa", "195000"),
    ],
)
def test_amounts_in_local_forms_and_words(text, amount):
    assert extract(text).requested_amount == _money(amount)


# --- Item 7: ranges, net income, informal amounts, price less deposit, balances, questions -----


def test_a_range_asked_for_is_the_midpoint_with_lower_confidence():
    ranged = extract("I'd like to borrow between 8 and 10 thousand for a car")
    single = extract("I'd like to borrow 9 thousand for a car")
    assert ranged.requested_amount == single.requested_amount == Decimal("9000.00")
    assert ranged.requested_amount_confidence == 0.5 < single.requested_amount_confidence
    assert extract("Vorrei investire 20-30 mila euro in fondi").requested_amount == Decimal("25000.00")


@pytest.mark.parametrize(
    ("text", "income"),
    [
        ("income 5.5k, want to borrow 20k for a kitchen", "5500"),
        ("take home 2,350 and I need a loan of 4k", "2350"),
        ("Mi servirebbe un prestito, guadagno tra 1.600 e 2.000 euro al mese", "1800"),
        ("Cobro 1.900 netos al mes y quiero un préstamo de 5.000 €", "1900"),
        ("Mon salaire net est de 2 600 € par mois", "2600"),
        ("Bruttogehalt 60.000 € im Jahr, ich brauche einen Kredit", "5000"),
    ],
)
def test_income_phrases(text, income):
    assert extract(text).monthly_income == _money(income)


@pytest.mark.parametrize(
    ("text", "income"),
    [
        ("I earn £480 a week and need a loan of 2k", "2080"),
        ("Guadagno 450 euro a settimana, vorrei un prestito di 2.000 euro", "1950"),
        ("Cobro 400 € por semana y necesito un préstamo de 1.500 €", "1733.33"),
        ("Je gagne 500 € par semaine, je voudrais un prêt de 2 000 €", "2166.67"),
        ("Ich verdiene 600 € pro Woche und brauche einen Kredit über 3.000 €", "2600"),
    ],
)
def test_weekly_pay_in_five_languages_is_monthly_income(text, income):
    assert extract(text).monthly_income == _money(income)


@pytest.mark.parametrize(
    ("text", "intent", "amount"),
    [
        ("We've made an offer on a 2-bed at £230k, putting down £25k", "mortgage", "205000"),
        ("Ich möchte einen Neuwagen für 24.000 € kaufen und 4.000 € anzahlen", "car_loan", "20000"),
        ("Vorrei acquistare un bilocale da 160.000 €, anticipo del 20%", "mortgage", "128000"),
        ("Looking at a used Golf for 11k, I've got 3k saved towards it", "car_loan", "8000"),
    ],
)
def test_a_home_or_car_priced_less_what_is_put_down(text, intent, amount):
    got = extract(text)
    assert (got.intent, got.requested_amount) == (intent, _money(amount))


@pytest.mark.parametrize(
    ("text", "intent", "amount", "purpose"),
    [
        ("Me quedan 140.000 € de hipoteca con otro banco y quiero traerla aquí", "mortgage", "140000", "remortgage"),
        ("Our two year fix runs out in April, we still owe £150k on the house", "mortgage", "150000", "remortgage"),
        ("Wie hoch wäre die monatliche Rate für 300.000 € Baufinanzierung?", "mortgage", "300000", None),
        ("Quanto pagherei di rata per un prestito di 10.000 euro in 5 anni?", "personal_loan", "10000", None),
        ("Brauchen eine Brückenfinanzierung über 150.000 € bis zum Verkauf", "mortgage", "150000", "home_purchase"),
        ("Looking to remortgage, owe 185k, house worth 400k", "mortgage", "185000", "remortgage"),
        ("Debo 12.000 € de dos préstamos y quiero reunificarlos", "personal_loan", "12000", "debt_consolidation"),
        ("Ich schulde noch 7.000 € auf zwei Kredite, möchte umschulden", "personal_loan", "7000", "debt_consolidation"),
        ("Can I have an overdraft of 500 quid", "personal_loan", "500", None),
        ("Ich möchte 20.000 Euro für 3 Jahre fest anlegen", "deposit", "20000", None),
        ("I want to lock away 12k for a year, what do you pay?", "deposit", "12000", None),
    ],
)
def test_balances_questions_bridges_overdrafts_and_savings(text, intent, amount, purpose):
    got = extract(text)
    assert (got.intent, got.requested_amount, got.loan_purpose) == (intent, _money(amount), purpose)


# --- Item 8: intent and purpose agree with the bank's products -------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I run a bakery and need 30k for new ovens",
        "La mia ditta ha bisogno di 50.000 euro di liquidità",
        "Tengo una tienda y necesito un préstamo de 12.000 €",
        "Ma boulangerie a besoin de 40 000 € pour un nouveau four",
        "Meine Bäckerei braucht 35.000 € Kredit",
    ],
)
def test_business_lending_is_routed_as_business(text):
    got = extract(text)
    assert (got.intent, got.loan_purpose) == ("business_loan", "business")


def test_a_self_employed_person_asking_for_a_car_loan_keeps_the_car_loan():
    assert extract("I'm self-employed and want a car loan for 15k").intent == "car_loan"


@pytest.mark.parametrize(
    "text",
    [
        "I owe 4k on cards and an overdraft, want one loan to clear it all",
        "Ho quattro finanziamenti, vorrei unirli in uno solo: in tutto 9.000 €",
        "Tengo tres préstamos y quiero reunificarlos en uno, son 8.000 €",
        "Je voudrais regrouper mes crédits, 15 000 € au total",
        "Ich habe zwei Kredite über 11.000 € und möchte sie ablösen",
    ],
)
def test_refinancing_personal_debts_is_a_consolidation_loan(text):
    got = extract(text)
    assert (got.intent, got.loan_purpose) == ("personal_loan", "debt_consolidation")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want a stocks and shares ISA with 15k", "investment"),
        ("I want a cash ISA with 15k", "deposit"),
        ("Ho 50 mila euro di risparmi, cosa mi consigliate per investirli?", "investment"),
        ("Tengo 20.000 € ahorrados, ¿qué interés dais a plazo fijo?", "deposit"),
    ],
)
def test_savings_with_an_amount_are_a_deposit_unless_invested(text, intent):
    assert extract(text).intent == intent


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("Need 9k for a conservatory", "home_improvement"),
        ("Vorrei un prestito per un intervento chirurgico di 6.000 €", "medical"),
        ("Necesito 2.000 € para un curso de diseño", "education"),
        ("Nous voulons acheter un studio à 150 000 € avec 30 000 € d'apport", "home_purchase"),
        ("Wir kaufen eine Eigentumswohnung für 280.000 €, 60.000 € Eigenkapital", "home_purchase"),
    ],
)
def test_purposes_in_the_five_languages(text, purpose):
    assert extract(text).loan_purpose == purpose


# --- Measured: the fresh blind set, written before the rules changed --------------------------


def test_the_fresh_blind_set_is_apart_and_scored():
    """A floor, not a target: the figures are quoted in docs/leads.md; a change that loses them fails."""
    fresh = load_labelled(FRESH)
    assert len(fresh) >= 60
    assert {case["lang"] for case in fresh} == set(LANGUAGES)
    labelled = {case["text"] for case in load_labelled()}
    assert not labelled & {case["text"] for case in fresh}
    result = evaluate(fresh)
    assert result["overall"] >= 0.92, result["misses"]
    for lang, accuracy in result["per_language"].items():
        assert accuracy >= TARGET_PER_LANGUAGE, (lang, accuracy)


def test_the_fresh_blind_set_is_written_the_way_people_write():
    texts = " ".join(case["text"] for case in load_labelled(FRESH))
    for form in ("2.8k", "195mila", "$50k", "CHF", "£520 a week", "30-40 mila", "autonomo", "Whats"):
        assert form in texts, form
    assert re.search(r"\bim\b|\bive\b", texts)  # a missing apostrophe
