"""The deterministic extractor: reads income, amount, purpose, intent and constraints by rule.

It serves when no LLM is configured or the LLM call fails, so it must never guess: a field it
cannot read with some certainty is None, and its confidences are capped below what the LLM
can report (RULES_MAX_CONFIDENCE), so a lead read only by rules reaches a person sooner.

Amounts are read in the forms people write them, in English, Italian, Spanish, French and
German: "2.5k", "5,5k", "€250,000", "22.000 €", "310 000 €", "1'200 CHF", "1.450,00", "8 grand",
"half a million", "trenta mila euro", "cent mille". An amount with a period (a month, "al
mese", "par mois", "im Monat", per annum...) is income unless its context says it is a
repayment, rent, fee or turnover; a salary without a period is yearly when it is five figures
or more. A range ("2,000-4,000 a month") is read as its midpoint with a lower confidence; a
day rate is not turned into a monthly income. For a loan, a price with a deposit or a
percentage down gives the difference. docs/leads.md lists what is understood and the
measured accuracy (benchmarks/lead_extraction_bench.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from apps.leads.models import Constraint, Intent, LoanPurpose

RULES_MAX_CONFIDENCE = 0.85
PENNY = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999")  # what the model's Decimal(14, 2) columns hold


@dataclass(frozen=True)
class Extraction:
    """What an extractor read from one inquiry (values None when not stated)."""

    intent: str
    intent_confidence: float
    monthly_income: Decimal | None
    monthly_income_confidence: float
    requested_amount: Decimal | None
    requested_amount_confidence: float
    currency: str
    loan_purpose: str | None
    loan_purpose_confidence: float
    constraints: tuple[str, ...] = ()
    extracted_by: str = "rules"
    model: str = ""
    notes: tuple[str, ...] = field(default=())
    # What the LLM call cost (also when its answer was unusable and the rules served).
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal("0")

    def confidences(self) -> dict[str, float]:
        return {
            "intent": self.intent_confidence,
            "monthly_income": self.monthly_income_confidence,
            "requested_amount": self.requested_amount_confidence,
            "loan_purpose": self.loan_purpose_confidence,
        }


# --- Contact details never reach the LLM (or the logs) ------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number: 9+ digits with optional +, spaces, dashes, dots or brackets, not an amount.
_PHONE = re.compile(r"(?<![\w£€$.,])\+?\(?\d[\d ()\-.]{7,}\d(?![\w%])")


def redact_contact_details(text: str, *, names: Iterable[str] = ()) -> str:
    """Replace e-mail addresses, phone numbers and the applicant's own name with placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub(lambda m: "[phone]" if sum(ch.isdigit() for ch in m.group()) >= 9 else m.group(), text)
    for name in names:
        for part in {name.strip(), *name.split()}:
            if len(part) >= 3:
                text = re.sub(rf"\b{re.escape(part)}\b", "[name]", text, flags=re.IGNORECASE)
    return text


# --- Vocabularies: what people write, per language ------------------------------------------
#
# Each concept lists regular-expression fragments per language. An inquiry is not tagged with
# its language (and people mix them: "Kredit for my flat"), so one pipeline reads the union of
# all languages; adding a language is adding its words here. Fragments are matched
# case-insensitively between word boundaries.

_VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    # Words that say an amount is earned.
    "income": {
        "en": (
            "earn\\w*",
            "income",
            "salary",
            "salaries",
            "take[- ]home",
            "wages?",
            "paid",
            "pension",
            "make",
            "making",
            "on",
            "net pay",
            "bring home",
        ),
        "it": ("guadagn\\w*", "stipendio", "reddito", "entrate", "prendo", "pensione", "percepisco"),
        "es": ("gan[oa]\\w*", "cobr[oa]\\w*", "ingresos", "sueldo", "salario", "n[oó]mina", "pensi[oó]n"),
        "fr": ("gagn\\w*", "salaire", "revenus?", "touch\\w*", "pension", "retraite de"),
        "de": ("verdien\\w*", "\\w*gehalt", "\\w*einkommen", "rente", "lohn", "netto", "bekomme"),
    },
    # Words after which an amount without a period is a salary (monthly below 10,000, else yearly).
    "salary": {
        "en": ("earn\\w*", "income", "salary", "wages?", "job offer", "paid", "take[- ]home", "net pay"),
        "it": ("guadagn\\w*", "stipendio", "reddito", "entrate", "pensione"),
        "es": ("gan[oa]\\w*", "cobr[oa]\\w*", "ingresos", "sueldo", "salario", "n[oó]mina"),
        "fr": ("gagn\\w*", "salaire", "revenus?", "touch\\w*"),
        "de": ("verdien\\w*", "\\w*gehalt", "\\w*einkommen", "lohn"),
    },
    # A yearly figure said before the amount ("Jahresgehalt 54.000 €").
    "yearly_before": {
        "en": ("annual(?:ly)?", "yearly", "per annum"),
        "it": ("annu[oa]", "annuale", "lordo annuo"),
        "es": ("anual",),
        "fr": ("annuel(?:le)?",),
        "de": ("\\w*jahres\\w*", "j[äa]hrlich\\w*"),
    },
    # Money that goes out (a repayment, rent, a budget), never income.
    "outgoing": {
        "en": (
            "repay\\w*",
            "rent",
            "tuition",
            "fees?",
            "costs?",
            "bills?",
            "spend\\w*",
            "save",
            "saving",
            "instal+ments?",
            "budget",
            "afford\\w*",
            "outgoings?",
            "add",
            "pay(?!\\w*\\s+off)",
            "paying",
        ),
        "it": ("rata", "rate", "affitto", "pag\\w*", "spes[ae]"),
        "es": ("cuota", "alquiler", "pag\\w*", "gastos?"),
        "fr": ("mensualit[ée]s?", "loyer", "pay\\w*", "rembours\\w*", "d[ée]penses?"),
        "de": ("rate", "miete", "zahl\\w*", "ausgaben"),
    },
    # An amount a business turns over is not anyone's income.
    "not_income": {
        "en": ("turnover", "revenue", "sales"),
        "it": ("fatturato",),
        "es": ("facturaci[oó]n", "factura\\w*"),
        "fr": ("chiffre d'affaires",),
        "de": ("umsatz",),
    },
    # Words around an amount that make it the one asked for.
    "request": {
        "en": (
            "borrow\\w*",
            "lend",
            "loan",
            "mortgage",
            "financ\\w*",
            "need\\w*",
            "want\\w*",
            "would like",
            "like",
            "looking (?:for|to)",
            "limit",
            "invest\\w*",
            "put",
            "putting",
            "deposit",
            "save",
            "savings",
            "balance",
            "remaining",
            "total",
            "credit",
            "cash",
            "transfer",
            "overdraft",
            "facility",
            "move",
        ),
        "it": (
            "prestito",
            "mutuo",
            "finanziament\\w*",
            "serv\\w*",
            "vorrei",
            "chiedo",
            "chiedere",
            "cerco",
            "investire",
            "mettere",
            "fido",
            "saldo",
            "residuo",
            "restano",
            "limite",
            "in tutto",
            "bisogno",
        ),
        "es": (
            "pr[ée]stamo",
            "hipoteca",
            "necesit\\w*",
            "quiero",
            "quisiera",
            "financ\\w*",
            "invertir",
            "meter",
            "descubierto",
            "quedan",
            "l[ií]mite",
            "suman",
            "en total",
            "pedir",
            "cr[ée]dito",
        ),
        "fr": (
            "pr[êe]t",
            "emprunt\\w*",
            "besoin",
            "faudrait",
            "faut",
            "cr[ée]dit",
            "investir",
            "placer",
            "d[ée]couvert",
            "reste",
            "plafond",
            "au total",
            "financ\\w*",
            "voudrais",
            "souhaite",
        ),
        "de": (
            "kredit\\w*",
            "darlehen",
            "brauch\\w*",
            "ben[öo]tig\\w*",
            "m[öo]chte",
            "investieren",
            "anlegen",
            "dispo\\w*",
            "restschuld",
            "\\w*finanzierung",
            "leihen",
            "insgesamt",
            "[üu]ber",
            "verf[üu]gungsrahmen",
        ),
    },
    # Words that make an amount a price or a value, not what is borrowed.
    "price": {
        "en": (
            "value",
            "valued",
            "worth",
            "price[ds]?",
            "costs?",
            "house",
            "houses",
            "home",
            "homes",
            "flat",
            "property",
            "townhouse",
            "turnover",
            "rent",
            "place",
        ),
        "it": ("costa", "costo", "prezzo", "valore", "vale", "casa", "appartamento", "auto", "moto"),
        "es": ("cuesta", "precio", "valor", "piso", "casa", "coche", "moto"),
        "fr": ("co[ûu]te", "prix", "valeur", "maison", "appartement", "voiture", "moto"),
        "de": ("kostet", "preis", "wert", "haus", "wohnung", "auto", "motorrad"),
    },
    # Buying: for a loan, the amount after these is a price ("buying a flat for 275k").
    "buy": {
        "en": ("buy\\w*", "purchas\\w*"),
        "it": ("compr\\w*", "acquist\\w*"),
        "es": ("compr\\w*",),
        "fr": ("achet\\w*", "acqu[ée]r\\w*"),
        "de": ("kauf\\w*",),
    },
    # Money the applicant already has towards a purchase (the loan is the price less this).
    "down": {
        "en": ("deposit", "down", "up ?front", "saved", "put down"),
        "it": ("anticipo", "acconto", "da parte", "risparmiat\\w*"),
        "es": ("entrada", "aport\\w*", "ahorrad\\w*"),
        "fr": ("apport", "d'apport"),
        "de": ("eigenkapital", "anzahlung", "angespart", "erspart\\w*"),
    },
    # "between 2,000 and 2,400": the word before a range.
    "between": {
        "en": ("between", "from"),
        "it": ("tra", "fra", "da"),
        "es": ("entre", "de"),
        "fr": ("entre", "de"),
        "de": ("zwischen", "von"),
    },
    "and": {"en": ("and", "to"), "it": ("e", "a"), "es": ("y", "a"), "fr": ("et", "à"), "de": ("und", "bis")},
}

# Periods right after an amount; words such as "net" or "lordi" may sit in between.
_PERIOD_GAP_WORDS = (
    "net",
    "gross",
    "after tax",
    "before tax",
    "take[- ]home",
    "profit",
    "nett[io]",
    "lord[io]",
    "netos?",
    "brutos?",
    "nets?",
    "bruts?",
    "brutto",
    "\\w*einkommen",
    "\\w*gehalt",
)
_MONTH_PHRASES = (
    "(?:a|per|each|every|/)\\s*(?:calendar\\s+)?(?:month|mth|mo)\\b",
    "pcm\\b",
    "p\\.?m\\.?(?!\\w)",
    "p/m\\b",
    "monthly\\b",
    "al mese\\b",
    "mensil[ei]\\b",
    "(?:al|por|cada) mes\\b",
    "mensual(?:es)?\\b",
    "(?:par|/)\\s*mois\\b",
    "mensuel(?:le)?s?\\b",
    "(?:im|pro|je|/)\\s*monat\\b",
    "monatlich\\b",
)
_YEAR_PHRASES = (
    "(?:a|per|each|every|/)\\s*(?:year|yr|annum)\\b",
    "p\\.?a\\.?(?!\\w)",
    "annually\\b",
    "yearly\\b",
    "all'anno\\b",
    "(?:l'|l’)anno\\b",
    "annu[ie]\\b",
    "(?:al|por) a[ñn]o\\b",
    "anual(?:es)?\\b",
    "(?:par|/)\\s*an\\b",
    "annuel(?:le)?s?\\b",
    "(?:im|pro|je)\\s*jahr\\b",
    "j[äa]hrlich\\b",
)

# Number words: units and tens per language, the words for a hundred and a thousand.
_NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
        "thirteen": 13,
        "fourteen": 14,
        "fifteen": 15,
        "sixteen": 16,
        "seventeen": 17,
        "eighteen": 18,
        "nineteen": 19,
        "twenty": 20,
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
    },
    "it": {
        "due": 2,
        "tre": 3,
        "quattro": 4,
        "cinque": 5,
        "sei": 6,
        "sette": 7,
        "otto": 8,
        "nove": 9,
        "dieci": 10,
        "venti": 20,
        "trenta": 30,
        "quaranta": 40,
        "cinquanta": 50,
        "sessanta": 60,
        "settanta": 70,
        "ottanta": 80,
        "novanta": 90,
    },
    "es": {
        "dos": 2,
        "tres": 3,
        "cuatro": 4,
        "cinco": 5,
        "seis": 6,
        "siete": 7,
        "ocho": 8,
        "nueve": 9,
        "diez": 10,
        "veinte": 20,
        "treinta": 30,
        "cuarenta": 40,
        "cincuenta": 50,
        "sesenta": 60,
        "setenta": 70,
        "ochenta": 80,
        "noventa": 90,
    },
    "fr": {
        "deux": 2,
        "trois": 3,
        "quatre": 4,
        "cinq": 5,
        "sept": 7,
        "huit": 8,
        "neuf": 9,
        "dix": 10,
        "vingt": 20,
        "trente": 30,
        "quarante": 40,
        "cinquante": 50,
        "soixante": 60,
    },
    "de": {
        "zwei": 2,
        "drei": 3,
        "vier": 4,
        "f[üu]nf": 5,
        "sechs": 6,
        "sieben": 7,
        "acht": 8,
        "neun": 9,
        "zehn": 10,
        "zwanzig": 20,
        "drei(?:ß|ss)ig": 30,
        "vierzig": 40,
        "f[üu]nfzig": 50,
    },
}
_HUNDRED_WORDS = ("hundred", "cento", "cien", "ciento", "cent", "hundert")
_THOUSAND_WORDS = ("thousand", "grand", "mila", "mille", "mil", "tausend")
_MILLION_WORDS = ("million", "millions", "milion[ei]", "mill[oó]n(?:es)?", "millionen", "mio")


def _words(concept: str) -> str:
    """The union of a concept's fragments in every language, as one alternation."""
    fragments = sorted({f for words in _VOCAB[concept].values() for f in words}, key=len, reverse=True)
    return "(?:" + "|".join(fragments) + ")"


def _pattern(concept: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){_words(concept)}(?!\w)", re.IGNORECASE)


# --- Amounts --------------------------------------------------------------------------------

_UNIT_PATTERNS = [
    (re.compile(rf"^{word}$", re.IGNORECASE), value) for lang in _NUMBER_WORDS.values() for word, value in lang.items()
]
_NUMBER_WORD = "|".join(sorted((w for lang in _NUMBER_WORDS.values() for w in lang), key=len, reverse=True))
_HUNDRED = "|".join(_HUNDRED_WORDS)
_WORD_NUMBER = re.compile(
    rf"\b((?:(?:a|an|one|un|una|uno|ein)\s+(?={_HUNDRED}))?(?:{_NUMBER_WORD}|{_HUNDRED})"
    rf"(?:(?:[\s-]+(?:and\s+)?|)(?:{_NUMBER_WORD}|{_HUNDRED}))*)\s*"
    rf"({'|'.join(_THOUSAND_WORDS)}|million)\b",
    re.IGNORECASE,
)
_FRACTION_MILLION = re.compile(r"\b(half|quarter)\s+(?:of\s+)?a\s+million\b", re.IGNORECASE)
_A_MILLION = re.compile(r"\b(?:a|one|un|uno|ein(?:e)?)\s+(?:million|milione|mill[oó]n|million)\b", re.IGNORECASE)
_MULTIPLIERS = {
    **dict.fromkeys(("k", "thousand", "grand", "mila", "mil", "mille", "tausend"), 1000),
    **dict.fromkeys(
        ("m", "mn", "million", "millions", "milione", "milioni", "millon", "millón", "millones", "millionen", "mio"),
        1000000,
    ),
    "bn": 1000000000,
}


def _unit_value(word: str) -> int | None:
    for pattern, value in _UNIT_PATTERNS:
        if pattern.match(word):
            return value
    return None


def _words_value(words: str) -> int | None:
    """'one hundred and fifty' → 150, 'trenta' → 30, 'cent' → 100 (the thousand is applied after)."""
    hundred = re.compile(rf"^(?:{_HUNDRED})$", re.IGNORECASE)
    tokens = re.findall(rf"{_HUNDRED}|{_NUMBER_WORD}|\w+", words, re.IGNORECASE)
    current = 0
    for word in tokens:
        if word.lower() in ("and", "a", "an", "one", "un", "una", "uno", "ein"):
            current = current or (1 if word.lower() != "and" else 0)
            continue
        if hundred.match(word):
            current = max(current, 1) * 100
            continue
        value = _unit_value(word)
        if value is None:
            return None
        current += value
    return current or None


def _spell_out(text: str) -> str:
    """'half a million' → '500000', 'thirty thousand' → '30000', 'trenta mila' → '30000'."""
    text = _FRACTION_MILLION.sub(lambda m: "500000" if m.group(1).lower() == "half" else "250000", text)
    text = _A_MILLION.sub("1000000", text)

    def number(match: re.Match[str]) -> str:
        value = _words_value(match.group(1).strip())
        if value is None:
            return match.group(0)
        return f"{value * _MULTIPLIERS[match.group(2).lower()]}"

    return _WORD_NUMBER.sub(number, text)


_CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
_CURRENCY_WORDS = {
    **dict.fromkeys(("gbp", "pound", "pounds", "quid", "sterling"), "GBP"),
    **dict.fromkeys(("eur", "euro", "euros"), "EUR"),
    **dict.fromkeys(("usd", "dollar", "dollars"), "USD"),
    **dict.fromkeys(("chf", "fr.", "franken", "francs", "franchi"), "CHF"),
}
# Thousands separators: comma, period, (narrow) no-break space, space, apostrophe (Swiss "1'200").
_SEP = "[,. '\u2019\u00a0\u202f]"
_MULT_WORDS = "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
_MONEY = re.compile(
    r"(?P<pre>[£€$]|\b(?:gbp|eur|usd|chf)\s?)?"
    # Grouped thousands ("250,000", "22.000", "1.450,00", "250 000", "1'200") or a plain number ("2.5", "5,5").
    rf"(?P<num>(?<![\d.,])\d{{1,3}}(?:(?P<sep>{_SEP})\d{{3}})(?:(?P=sep)\d{{3}})*(?:[.,]\d{{1,2}})?(?!\d)"
    r"|(?<![\d.,])\d+(?:[.,]\d+)?)"
    rf"(?:\s?(?P<mult>{_MULT_WORDS})\b)?"
    r"(?:\s?(?P<post>[£€$]|(?:euros?|eur|pounds?|quid|gbp|dollars?|usd|chf|franken|francs|franchi)\b))?",
    re.IGNORECASE,
)
# A number followed by one of these is a duration, an age, a share, not money.
_NOT_MONEY_AFTER = re.compile(
    r"^\s*-?\s*(?:years?|yrs?|year-old|months?|mths?|weeks?|days?|hours?|%|percent|per\s?cent|miles?|km|"
    r"people|times|kids|children|cards|loans|anni|mesi|a[ñn]os|meses|ans|mois|jahre\w*|monate\w*)\b|^\s?%",
    re.IGNORECASE,
)
_YEAR_BEFORE = re.compile(r"\b(?:in|since|until|till|by|from|of|nel|en|dal|desde|depuis|seit|im)\s*$", re.I)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d+)?)\s?%")

_PERIODS = [
    ("month", re.compile(rf"^\s*(?:(?:{'|'.join(_PERIOD_GAP_WORDS)})\s*)*(?:{'|'.join(_MONTH_PHRASES)})", re.I)),
    ("year", re.compile(rf"^\s*(?:(?:{'|'.join(_PERIOD_GAP_WORDS)})\s*)*(?:{'|'.join(_YEAR_PHRASES)})", re.I)),
    (
        "fortnight",
        re.compile(r"^\s*(?:net\s*)?(?:every\s+(?:two|2)\s+weeks|fortnightly|bi-?weekly|a\s+fortnight)\b", re.I),
    ),
    ("week", re.compile(r"^\s*(?:net\s*)?(?:(?:a|per|each|every|/)\s*(?:week|wk)\b|weekly\b|p\.?w\.?(?!\w))", re.I)),
    (
        "day",
        re.compile(
            r"^\s*(?:(?:a|per|each|every|/)\s*day\b|daily\b|al giorno\b|al d[ií]a\b|par jour\b|pro tag\b)", re.I
        ),
    ),
]
# "monthly income of 2,000": a period said before the amount, right before it.
_MONTHLY_BEFORE = re.compile(
    r"\b(?:monthly|mensile|mensual|mensuel|monatlich\w*)\s+(?:(?:net|gross|take[- ]home|netto|neto)\s+)?"
    r"(?:income|salary|pay|wages?|earnings|reddito|stipendio|ingresos|sueldo|salaire|revenus?|einkommen|gehalt)?"
    r"\s*(?:of|is|di|de|von|:)?\s*(?:about|around|roughly|circa|unos|environ|etwa)?\s*$",
    re.IGNORECASE,
)
_PER_MONTH = {
    "month": Decimal(1),
    "year": Decimal(1) / Decimal(12),
    "week": Decimal(52) / Decimal(12),
    "fortnight": Decimal(26) / Decimal(12),
}
_INCOME_WORDS = _pattern("income")
_SALARY_WORDS = _pattern("salary")
_YEARLY_BEFORE = re.compile(rf"(?<!\w){_words('yearly_before')}(?!\w)[^.?!]{{0,25}}$", re.IGNORECASE)
_OUTGOING_BEFORE = _pattern("outgoing")
_OUTGOING_AFTER = re.compile(
    r"^\W*(?:\w+\s+){0,3}?(?:repayments?|rent|instal+ments?|fees|outgoings?|di rata|de cuota|de loyer|miete)\b",
    re.IGNORECASE,
)
_NOT_INCOME_BEFORE = _pattern("not_income")

_REQUEST_BEFORE = _pattern("request")
_REQUEST_AFTER = re.compile(
    r"^\W*(?:\w+\s+){0,2}?(?:loan|mortgage|limit|left|outstanding|owing|in total|to (?:put|invest|borrow|deposit|"
    r"save|start)|into|balance|verf[üu]gungsrahmen|finanzieren|investieren|anlegen|leihen|[àa] rembourser|"
    r"por pagar|da pagare)\b",
    re.IGNORECASE,
)
_PRICE_BEFORE = _pattern("price")
_BUY_BEFORE = _pattern("buy")
_PRICE_AFTER = re.compile(r"^\W*(?:home|house|flat|property|apartment|car)\b", re.IGNORECASE)
_DOWN_WORDS = _words("down")
_DOWN_BEFORE = re.compile(rf"(?<!\w){_DOWN_WORDS}(?!\w)\W*(?:\w+\W+){{0,2}}$", re.IGNORECASE)
# Right after the amount ("4,000 down", "60.000 € di anticipo"), so a price followed by "with 10% down" is not one.
_DOWN_AFTER = re.compile(rf"^\W*(?:[^\W\d]+\W+)?{_DOWN_WORDS}(?!\w)", re.IGNORECASE)
_RANGE_JOIN = re.compile(rf"^\s*(?:-|–|—|to|bis|{_words('and')})\s*$", re.IGNORECASE)
_RANGE_DASH = re.compile(r"^\s*(?:-|–|—|to|bis)\s*$", re.IGNORECASE)
_RANGE_START = re.compile(rf"(?<!\w){_words('between')}\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[!?;]|\.(?=\s|$)")


@dataclass
class _Amount:
    value: Decimal
    currency: str
    explicit: bool  # a currency or a multiplier was written: it is surely money
    start: int
    end: int
    before: str = ""
    after: str = ""
    period: str = ""
    income_word: bool = False
    is_range: bool = False  # a range read as its midpoint


def _parse_number(raw: str, sep: str | None) -> Decimal | None:
    text = raw
    try:
        if sep:
            # Grouped thousands; a final group of one or two digits after the other mark is decimals.
            decimal_mark = "," if sep == "." else "."
            whole, cents = text, ""
            if re.search(rf"\{decimal_mark}\d{{1,2}}$", text):
                whole, _, cents = text.rpartition(decimal_mark)
            whole = whole.replace(sep, "")
            return Decimal(f"{whole}.{cents}" if cents else whole)
        # "2,5" is a European decimal; "2,50" too.
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def _currency_of(match: re.Match[str]) -> str:
    for part in (match.group("pre"), match.group("post")):
        if not part:
            continue
        part = part.strip().lower()
        if part in _CURRENCY_SYMBOLS:
            return _CURRENCY_SYMBOLS[part]
        if part in _CURRENCY_WORDS:
            return _CURRENCY_WORDS[part]
    return ""


@dataclass
class _Raw:
    value: Decimal
    mult: int
    currency: str
    digits: str
    start: int
    end: int


def _raw_numbers(text: str) -> list[_Raw]:
    found = []
    for match in _MONEY.finditer(text):
        value = _parse_number(match.group("num"), match.group("sep"))
        if value is None:
            continue
        mult = _MULTIPLIERS[match.group("mult").lower()] if match.group("mult") else 1
        found.append(
            _Raw(value, mult, _currency_of(match), re.sub(r"\D", "", match.group("num")), match.start(), match.end())
        )
    return found


def _join_ranges(text: str, raws: list[_Raw]) -> list[tuple[_Raw, bool]]:
    """'2,000–2,400', 'between 3,000 and 3,600', 'tra 1.800 e 2.200 €', '2-4k': one amount, the midpoint."""
    joined: list[tuple[_Raw, bool]] = []
    index = 0
    while index < len(raws):
        first = raws[index]
        second = raws[index + 1] if index + 1 < len(raws) else None
        if second is not None:
            gap = text[first.end : second.start]
            dash = _RANGE_DASH.match(gap)
            worded = _RANGE_JOIN.match(gap) and _RANGE_START.search(text[max(0, first.start - 12) : first.start])
            if dash or worded:
                mult = first.mult if first.mult > 1 else second.mult
                low, high = first.value * mult, second.value * second.mult
                if 0 < low < high:
                    middle = _Raw(
                        (low + high) / 2, 1, first.currency or second.currency, second.digits, first.start, second.end
                    )
                    joined.append((middle, True))
                    index += 2
                    continue
        joined.append((first, False))
        index += 1
    return joined


def _amounts(text: str) -> list[_Amount]:
    found: list[_Amount] = []
    for raw, is_range in _join_ranges(text, _raw_numbers(text)):
        value = raw.value * raw.mult
        explicit = bool(raw.mult > 1 or raw.currency or is_range)
        before_text, after_text = text[: raw.start], text[raw.end :]
        if not explicit:
            if value < 100 or _NOT_MONEY_AFTER.match(after_text):
                continue
            if raw.digits.startswith("0") and len(raw.digits) >= 5:  # a phone number's fragment
                continue
            if 1950 <= value <= 2099 and len(raw.digits) == 4 and _YEAR_BEFORE.search(before_text[-8:]):
                continue
        elif _NOT_MONEY_AFTER.match(after_text) and not raw.currency:
            continue
        if value <= 0 or value > MAX_AMOUNT:
            continue
        found.append(_Amount(value, raw.currency, explicit, raw.start, raw.end, is_range=is_range))
    return found


def _contexts(text: str, amounts: list[_Amount]) -> None:
    """The words before and after each amount, within its sentence and not past its neighbours."""
    for index, amount in enumerate(amounts):
        lower = amounts[index - 1].end if index else 0
        upper = amounts[index + 1].start if index + 1 < len(amounts) else len(text)
        before = text[max(lower, amount.start - 45) : amount.start]
        ends = list(_SENTENCE_END.finditer(before))
        if ends:
            before = before[ends[-1].end() :]
        after = text[amount.end : min(upper, amount.end + 35)]
        end = _SENTENCE_END.search(after)
        if end:
            after = after[: end.start()]
        amount.before, amount.after = before, after
        for name, pattern in _PERIODS:
            if pattern.match(after):
                amount.period = name
                break
        if not amount.period and _MONTHLY_BEFORE.search(before):
            amount.period = "month"
        if not amount.period and _YEARLY_BEFORE.search(before) and _SALARY_WORDS.search(before):
            amount.period = "year"
        amount.income_word = bool(_INCOME_WORDS.search(before) or re.search(r"take[- ]home", after, re.I))


def _is_outgoing(amount: _Amount) -> bool:
    return bool(
        _OUTGOING_BEFORE.search(amount.before)
        or _OUTGOING_AFTER.match(amount.after)
        or _NOT_INCOME_BEFORE.search(amount.before)
    )


def _income(amounts: list[_Amount]) -> tuple[_Amount | None, Decimal | None, float]:
    """The monthly income, and how sure: an explicit period and an income word are best; a range is
    read as its midpoint with a lower confidence."""
    candidates: list[tuple[float, _Amount, Decimal]] = []
    for amount in amounts:
        if _is_outgoing(amount) and not amount.income_word:
            continue
        if amount.period == "day":
            continue  # a day rate: how many days a month is a guess
        if amount.period:
            monthly = amount.value * _PER_MONTH[amount.period]
            confidence = 0.85 if amount.income_word else 0.7
        elif _SALARY_WORDS.search(amount.before):
            # "Salary 38k": five figures and up is yearly (how salaries are quoted), below is monthly.
            yearly = amount.value >= 10000
            monthly, confidence = (amount.value / 12 if yearly else amount.value), 0.6
        else:
            continue
        if amount.is_range:
            confidence = 0.5
        candidates.append((confidence, amount, monthly))
    if not candidates:
        return None, None, 0.7
    candidates.sort(key=lambda c: -c[0])
    confidence, amount, monthly = candidates[0]
    if len({c[2] for c in candidates if c[0] == confidence}) > 1:
        confidence = min(confidence, 0.5)  # two different incomes stated equally firmly
    return amount, monthly.quantize(PENNY, rounding=ROUND_HALF_UP), confidence


def _is_down(amount: _Amount, following: _Amount | None) -> bool:
    """Money put down: "deposit of 60k", "4,000 down"; a down word that introduces the next amount
    ("320.000 €, aportamos 80.000 €") belongs to that one."""
    if _DOWN_BEFORE.search(amount.before[-30:]):
        return True
    introduces_next = following is not None and _DOWN_BEFORE.search(following.before[-30:])
    return bool(_DOWN_AFTER.match(amount.after)) and not introduces_next


def _percent_down(text: str) -> Decimal | None:
    """'with 15% down', 'il 20% di anticipo', 'tengo ahorrado el 20%': the share put down."""
    for match in _PERCENT.finditer(text):
        before, after = text[max(0, match.start() - 30) : match.start()], text[match.end() : match.end() + 25]
        if _DOWN_BEFORE.search(before) or _DOWN_AFTER.match(after):
            share = Decimal(match.group(1).replace(",", "."))
            if 0 < share < 100:
                return share
    return None


def _requested(
    text: str, amounts: list[_Amount], income: _Amount | None, intent: str
) -> tuple[Decimal | None, str, float]:
    """The amount asked for: the one with request words around it, never a price or a salary; for a
    purchase with a deposit or a percentage down, the price less what is put down."""
    borrowing = intent in (Intent.MORTGAGE, Intent.CAR_LOAN, Intent.PERSONAL_LOAN)
    scored: list[tuple[int, _Amount]] = []
    prices: list[_Amount] = []
    downs: list[_Amount] = []
    for index, amount in enumerate(amounts):
        if amount is income or amount.period or amount.is_range:
            continue
        if _SALARY_WORDS.search(amount.before) and amount.value >= 10000 and intent != Intent.INVESTMENT:
            continue
        request = bool(_REQUEST_BEFORE.search(amount.before) or _REQUEST_AFTER.match(amount.after))
        price = bool(
            _PRICE_BEFORE.search(amount.before)
            or _PRICE_AFTER.match(amount.after)
            or (borrowing and _BUY_BEFORE.search(amount.before))
        )
        score = (2 if request else 0) - (2 if price else 0)
        if borrowing and _is_down(amount, amounts[index + 1] if index + 1 < len(amounts) else None):
            downs.append(amount)
            score -= 3  # a deposit is what they have, not what they ask for
        elif price:
            prices.append(amount)
        scored.append((score, amount))
    if not scored:
        return None, "", 0.7
    best = max(score for score, _ in scored)
    if borrowing and prices and best < 2:
        share = _percent_down(text)
        price = max(prices, key=lambda a: a.value)
        if downs and downs[0].value < price.value:
            return price.value - downs[0].value, price.currency or downs[0].currency, 0.7
        if share is not None:
            return price.value * (100 - share) / 100, price.currency, 0.7
    top = [amount for score, amount in scored if score == best]
    if best >= 1:
        chosen = top[-1]  # "value 350k ... so we'd need 300k": the later request refines the earlier
        return chosen.value, chosen.currency, 0.85 if chosen.explicit else 0.75
    if len(scored) == 1 and best >= 0:
        return scored[0][1].value, scored[0][1].currency, 0.55
    return None, "", 0.3


# --- Intent, purpose, constraints ------------------------------------------------------------


def _any(*fragments: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(fragments) + r")(?!\w)", re.IGNORECASE)


_CAR_WORDS = (
    "car",
    "cars",
    "vehicle",
    "van",
    "motorbike",
    "motorcycle",
    "tesla",
    "ford",
    "bmw",
    "audi",
    "toyota",
    "volkswagen",
    "vw",
    "golf",
    "auto",
    "automobile",
    "macchina",
    "moto",
    "coche",
    "voiture",
    "motorrad",
)
_BRIDGE = (
    "bridg(?:e|ing) loan",
    "bridging finance",
    "prestito ponte",
    "pr[ée]stamo puente",
    "pr[êe]t[- ]relais",
    "zwischenfinanzierung",
    "[üu]berbr[üu]ckungskredit",
)
_INTENT_RULES: list[tuple[str, int, re.Pattern[str]]] = [
    (
        Intent.MORTGAGE,
        3,
        _any(
            "(?:re-?)?mortgages?",
            "home loans?",
            "buy[- ]to[- ]let",
            *_BRIDGE,
            "mutuo",
            "surroga\\w*",
            "ipoteca",
            "hipoteca",
            "pr[êe]t immobilier",
            "cr[ée]dit immobilier",
            "baufinanzierung",
            "hypothek\\w*",
            "immobilienkredit",
            "immobilienfinanzierung",
            "zinsbindung",
            "anschlussfinanzierung",
        ),
    ),
    (
        Intent.MORTGAGE,
        2,
        _any(
            "first[- ]time buyers?",
            "buy(?:ing)? (?:a |my |our )?(?:first )?(?:house|home|flat|property|place)",
            "comprare casa",
            "piso",
            "appartamento",
            "maison",
            "appartement",
            "haus",
            "wohnung",
        ),
    ),
    (
        Intent.CAR_LOAN,
        3,
        _any(
            "car (?:loan|finance)",
            "auto loan",
            "vehicle finance",
            "finanziamento auto",
            "prestito auto",
            "pr[ée]stamo (?:de|para el|para un) coche",
            "cr[ée]dit auto",
            "autokredit",
            "autofinanzierung",
        ),
    ),
    (Intent.CAR_LOAN, 2, _any(*_CAR_WORDS)),
    (
        Intent.CREDIT_CARD,
        3,
        _any(
            "credit cards?",
            "balance transfer",
            "carta di credito",
            "tarjeta de cr[ée]dito",
            "carte de cr[ée]dit",
            "kreditkarte",
        ),
    ),
    (
        Intent.DEPOSIT,
        3,
        _any(
            "savings account",
            "fixed(?:[- ]term)? deposit",
            "term deposit",
            "deposit account",
            "fixed[- ]rate bond",
            "cash isa",
            "savings rate",
            "isa",
            "conto deposito",
            "deposito",
            "dep[óo]sito",
            "plazo fijo",
            "cuenta remunerada",
            "compte [àa] terme",
            "livret\\w*",
            "d[ée]p[ôo]t [àa] terme",
            "festgeld\\w*",
            "tagesgeld\\w*",
            "sparkonto",
            "sparbuch",
        ),
    ),
    (
        Intent.DEPOSIT,
        1,
        _any(
            "savings",
            "save",
            "put away",
            "risparmi\\w*",
            "ahorr\\w*",
            "[ée]pargne",
            "[ée]conomis\\w*",
            "gespart",
            "sparen",
        ),
    ),
    (
        Intent.INVESTMENT,
        3,
        _any(
            "invest(?:ing|ment|ments)?",
            "portfolio",
            "investire",
            "investimento",
            "portafoglio",
            "invertir",
            "inversi[oó]n",
            "carteras?",
            "investir",
            "placement",
            "portefeuille",
            "investieren",
            "wertpapier\\w*",
        ),
    ),
    (
        Intent.INVESTMENT,
        2,
        _any(
            "shares",
            "stocks",
            "funds",
            "bonds",
            "equities",
            "etfs?",
            "fondi",
            "azioni",
            "obbligazion\\w*",
            "fondos",
            "bolsa",
            "acciones",
            "fonds",
            "bourse",
            "assurance[- ]vie",
            "aktien",
        ),
    ),
    (
        Intent.PERSONAL_LOAN,
        3,
        _any(
            "personal loan",
            "consolidat\\w*",
            "prestito personale",
            "consolidare",
            "pr[ée]stamo personal",
            "reunificar",
            "pr[êe]t personnel",
            "regrouper",
            "rachat de cr[ée]dits?",
            "privatkredit",
            "ratenkredit",
            "zusammenfassen",
        ),
    ),
    (Intent.PERSONAL_LOAN, 2, _any("overdraft", "fido", "descubierto", "d[ée]couvert", "dispo\\w*")),
    (
        Intent.PERSONAL_LOAN,
        1,
        _any(
            "loans?",
            "borrow\\w*",
            "lend",
            "cash",
            "kredit\\w*",
            "darlehen",
            "leihen",
            "cr[ée]dito",
            "prestito",
            "finanziamento",
            "pr[ée]stamos?",
            "financiaci[oó]n",
            "pr[êe]t",
            "cr[ée]dits?",
            "emprunt\\w*",
        ),
    ),
]
# Lending to a business goes to business banking, never as a personal loan.
_BUSINESS_LENDING = _any(
    "business (?:loan|lending|finance|overdraft|credit)",
    "commercial loan",
    "working capital",
    "prestito aziendale",
    "fido aziendale",
    "finanziamento aziendale",
    "pr[ée]stamo empresarial",
    "pr[êe]t professionnel",
    "gesch[äa]ftskredit",
    "firmenkredit",
    "betriebsmittel\\w*",
)
_BUSINESS_NOUN = _any(
    "business",
    "company",
    "firm",
    "restaurant",
    "shop",
    "salon",
    "my (?:shop|company|firm)",
    "azienda",
    "attivit[àa]",
    "negozio",
    "srl",
    "impresa",
    "empresa",
    "negocio",
    "sociedad",
    "restaurante",
    "soci[ée]t[ée]",
    "entreprise",
    "sarl",
    "artisan",
    "firma",
    "betrieb",
    "gmbh",
    "gesch[äa]ft",
)
_BUSINESS_CREDIT = _any(
    "loans?",
    "lending",
    "financ\\w*",
    "overdraft",
    "credit",
    "capital",
    "prestito",
    "finanziamento",
    "fido",
    "pr[ée]stamo",
    "financiaci[oó]n",
    "l[ií]nea de cr[ée]dito",
    "pr[êe]t",
    "cr[ée]dit",
    "ligne de cr[ée]dit",
    "kredit\\w*",
    "darlehen",
)
_INTENT_ORDER = [
    Intent.MORTGAGE,
    Intent.CAR_LOAN,
    Intent.CREDIT_CARD,
    Intent.DEPOSIT,
    Intent.INVESTMENT,
    Intent.PERSONAL_LOAN,
]

_PURPOSE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        LoanPurpose.DEBT_CONSOLIDATION,
        _any(
            "consolidat\\w*",
            "pay off",
            "clear (?:my |our )?(?:\\w+ )?debts?",
            "balance transfer",
            "refinanc\\w*",
            "consolidare",
            "debiti",
            "rifinanzia\\w*",
            "reunificar",
            "deudas",
            "refinanciar",
            "regrouper",
            "rachat de cr[ée]dits?",
            "ren[ée]goci\\w*",
            "zusammenfassen",
            "umschulden",
            "umschuldung",
        ),
    ),
    (
        LoanPurpose.EDUCATION,
        _any(
            "universit\\w+",
            "tuition",
            "college",
            "course",
            "school fees",
            "degree",
            "studies",
            "master",
            "m[áa]ster",
            "studi",
            "estudios",
            "[ée]tudes",
            "studium",
            "studiengeb[üu]hren",
        ),
    ),
    (
        LoanPurpose.MEDICAL,
        _any(
            "medical",
            "dental",
            "surgery",
            "hospital",
            "treatment",
            "dentist\\w*",
            "medic\\w*",
            "m[ée]dic\\w*",
            "operaci[oó]n",
            "soins",
            "dentaires?",
            "zahn\\w*",
            "operation",
        ),
    ),
    (
        LoanPurpose.WEDDING,
        _any(
            "wedding",
            "married",
            "marry",
            "matrimonio",
            "spos\\w*",
            "boda",
            "casamos",
            "mariage",
            "marions",
            "hochzeit",
            "heirat\\w*",
        ),
    ),
    (
        LoanPurpose.TRAVEL,
        _any(
            "holiday",
            "trip",
            "travel\\w*",
            "vacation",
            "viaggio",
            "vacanz\\w*",
            "viaje",
            "vacaciones",
            "voyage",
            "vacances",
            "reise",
            "urlaub",
        ),
    ),
    (LoanPurpose.BUSINESS, _BUSINESS_NOUN),
    (
        LoanPurpose.HOME_IMPROVEMENT,
        _any(
            "renovat\\w*",
            "extension",
            "kitchen",
            "bathroom",
            "roof",
            "boiler",
            "refurbish\\w*",
            "home improvements?",
            "repairs?",
            "loft",
            "ristruttur\\w*",
            "bagno",
            "cucina",
            "tetto",
            "caldaia",
            "reform\\w*",
            "cocina",
            "caldera",
            "ba[ñn]o",
            "tejado",
            "refaire",
            "salle de bains?",
            "cuisine",
            "chaudi[èe]re",
            "toit",
            "travaux",
            "k[üu]che",
            "heizung",
            "dach",
            "badezimmer",
            "renovier\\w*",
            "sanier\\w*",
        ),
    ),
    (
        LoanPurpose.REMORTGAGE,
        _any(
            "re-?mortgag\\w*",
            "current deal",
            "switch (?:my|our) mortgage",
            "(?:fixed rate|deal) ends",
            "move it to you",
            "surroga\\w*",
            "rinegozi\\w*",
            "cambiar (?:mi|la) hipoteca",
            "racheter",
            "rachat",
            "ren[ée]goci\\w*",
            "umschulden",
            "zinsbindung",
            "anschlussfinanzierung",
            "refinanc\\w*",
        ),
    ),
    (LoanPurpose.CAR_PURCHASE, _any(*_CAR_WORDS, "autokredit", "finanziamento auto")),
    (
        LoanPurpose.HOME_PURCHASE,
        re.compile(
            r"\bbuy(?:ing)?\b.{0,20}\b(?:house|home|flat|property|apartment|place)\b|"
            r"\bfirst[- ]time buyers?\b|\bbuy[- ]to[- ]let\b|\bpurchase\b|"
            r"\blooking at (?:homes|houses|flats|properties)\b|"
            r"\b(?:compr\w*|acquist\w*|achet\w*|kauf\w*)\b|\bpour une maison\b|\bf[üu]r ein haus\b|"
            rf"(?<!\w)(?:{'|'.join(_BRIDGE)})(?!\w)",
            re.I,
        ),
    ),
]
_LOAN_INTENTS = {Intent.MORTGAGE, Intent.PERSONAL_LOAN, Intent.CAR_LOAN, Intent.CREDIT_CARD, Intent.OTHER}
_MORTGAGE_PURPOSES = (LoanPurpose.HOME_IMPROVEMENT, LoanPurpose.REMORTGAGE, LoanPurpose.HOME_PURCHASE)
_CONSTRAINT_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        Constraint.FIXED_TERM_CONTRACT,
        re.compile(
            r"\bfixed[- ]term contract|\btemp(?:orary)? contract|"
            r"\bcontract (?:ends|until)\b|\bcontractor\b",
            re.I,
        ),
    ),
    (
        Constraint.SELF_EMPLOYED,
        re.compile(
            r"\bself[- ]employed\b|\bfreelanc\w*|\bsole trader\b|"
            r"\bown (?:a|my|our) (?:small )?(?:business|company|restaurant|shop|firm)\b|"
            r"\bmy (?:small )?business\b",
            re.I,
        ),
    ),
    (
        Constraint.EXISTING_DEBT,
        re.compile(
            r"\bexisting (?:debt|loan|credit)\w*|\bdebts?\b|\boutstanding (?:debt|loan)s?\b|"
            r"\bother (?:loans|cards)\b|\b(?:two|three|four|\d) (?:loans|cards)\b|"
            r"\bbalance transfer\b|\boverdraft\b|\bowe\b|\bconsolidat\w*",
            re.I,
        ),
    ),
    (
        Constraint.POOR_CREDIT_HISTORY,
        re.compile(
            r"\b(?:bad|poor|low) credit|\bmissed payments?\b|\bccjs?\b|"
            r"\bcounty court\b|\bdefault(?:ed|s)?\b|\bbankrupt\w*|\biva\b|\barrears\b",
            re.I,
        ),
    ),
    (
        Constraint.PROBATION_PERIOD,
        re.compile(r"\bprobation\b|\bnew job\b|\bjust started (?:a|my) (?:new )?job\b", re.I),
    ),
    (
        Constraint.NON_RESIDENT,
        re.compile(
            r"\bnon[- ]resident\b|\b(?:just|recently) moved to\b|\bmoved to the uk\b|"
            r"\bnew to the (?:uk|country)\b|\bvisa\b|\bexpat\b|\bli(?:ve|ving) abroad\b",
            re.I,
        ),
    ),
    (Constraint.STUDENT, re.compile(r"\bstudent\b|\bcollege\b|\bstudying\b", re.I)),
    (Constraint.RETIRED, re.compile(r"\bretir(?:ed|ing)\b|\bpensioner\b|\bpension\b", re.I)),
    (
        Constraint.FIRST_TIME_BUYER,
        re.compile(r"\bfirst[- ]time buyers?\b|\bfirst (?:home|house|flat|property)\b", re.I),
    ),
    (
        Constraint.JOINT_APPLICATION,
        re.compile(
            r"\bmy (?:wife|husband|partner|spouse|fianc[ée]e?) and i\b|\bjoint(?:ly)?\b|"
            r"\bcombined income\b|\bboth (?:on|of us|work)\b|\bwe(?:'re| are) a couple\b",
            re.I,
        ),
    ),
]


def _intent(text: str) -> tuple[str, float]:
    scores = dict.fromkeys(_INTENT_ORDER, 0)
    for intent, weight, pattern in _INTENT_RULES:
        if pattern.search(text):
            scores[intent] = max(scores[intent], weight) if weight < 3 else scores[intent] + weight
    if _BUSINESS_LENDING.search(text):
        return Intent.BUSINESS_LOAN, 0.85
    retail = max(scores[i] for i in (Intent.MORTGAGE, Intent.CREDIT_CARD, Intent.DEPOSIT, Intent.INVESTMENT))
    if _BUSINESS_NOUN.search(text) and _BUSINESS_CREDIT.search(text) and retail < 3:
        return Intent.BUSINESS_LOAN, 0.7
    # "Consolidate my car finance and two cards": the product asked for is the consolidation loan.
    if scores[Intent.PERSONAL_LOAN] >= 3:
        scores[Intent.CAR_LOAN] = min(scores[Intent.CAR_LOAN], 2)
        if not re.search(r"\bbalance transfer\b", text, re.I):
            scores[Intent.CREDIT_CARD] = min(scores[Intent.CREDIT_CARD], 2)
    ranked = sorted(_INTENT_ORDER, key=lambda i: (-scores[i], _INTENT_ORDER.index(i)))
    first, second = scores[ranked[0]], scores[ranked[1]]
    if first == 0:
        return Intent.OTHER, 0.6
    if first >= 3 and first - second >= 2:
        return ranked[0], 0.85
    if first > second:
        return ranked[0], 0.7 if first >= 2 else 0.6
    return ranked[0], 0.45  # a tie: a person should look


def _purpose(text: str, intent: str) -> tuple[str | None, float]:
    if intent == Intent.BUSINESS_LOAN:
        return LoanPurpose.BUSINESS, 0.75
    if intent not in _LOAN_INTENTS:
        return None, 0.8
    hits = [purpose for purpose, pattern in _PURPOSE_RULES if pattern.search(text)]
    if intent == Intent.CREDIT_CARD:
        hits = [p for p in hits if p == LoanPurpose.DEBT_CONSOLIDATION]
    if intent == Intent.CAR_LOAN and LoanPurpose.CAR_PURCHASE in hits:
        hits = [LoanPurpose.CAR_PURCHASE]
    if intent == Intent.MORTGAGE:
        hits = [p for p in hits if p in _MORTGAGE_PURPOSES]
        if not hits and re.search(rf"(?<!\w){_DOWN_WORDS}(?!\w)", text, re.I):
            hits = [LoanPurpose.HOME_PURCHASE]  # a deposit is put down to buy
    if not hits:
        return None, 0.6
    return hits[0], 0.75 if len(hits) == 1 else 0.6


def _constraints(text: str) -> tuple[str, ...]:
    return tuple(constraint.value for constraint, pattern in _CONSTRAINT_RULES if pattern.search(text))


def extract(text: str, *, names: Iterable[str] = ()) -> Extraction:
    """Read one inquiry by rule. Confidences are capped at RULES_MAX_CONFIDENCE."""
    text = redact_contact_details(text or "", names=names)
    spelled = _spell_out(text)
    intent, intent_confidence = _intent(spelled)
    amounts = _amounts(spelled)
    _contexts(spelled, amounts)
    income_amount, monthly_income, income_confidence = _income(amounts)
    requested, requested_currency, requested_confidence = _requested(spelled, amounts, income_amount, intent)
    purpose, purpose_confidence = _purpose(spelled, intent)
    if intent == Intent.OTHER and requested is not None and intent_confidence < 0.65:
        # "I need £7,500 to fix my roof": no product named, but money asked for a loan purpose.
        loan_purpose, loan_confidence = _purpose(spelled, Intent.PERSONAL_LOAN)
        if loan_purpose == LoanPurpose.BUSINESS:
            intent, intent_confidence = Intent.BUSINESS_LOAN, 0.6
            purpose, purpose_confidence = loan_purpose, loan_confidence
        elif loan_purpose is not None:
            intent, intent_confidence = Intent.PERSONAL_LOAN, 0.6
            purpose, purpose_confidence = loan_purpose, loan_confidence
    currency = requested_currency or (income_amount.currency if income_amount else "")
    cap = RULES_MAX_CONFIDENCE
    return Extraction(
        intent=intent,
        intent_confidence=min(intent_confidence, cap),
        monthly_income=monthly_income,
        monthly_income_confidence=min(income_confidence, cap),
        requested_amount=requested.quantize(PENNY, rounding=ROUND_HALF_UP) if requested is not None else None,
        requested_amount_confidence=min(requested_confidence, cap),
        currency=currency,
        loan_purpose=purpose,
        loan_purpose_confidence=min(purpose_confidence, cap),
        constraints=_constraints(spelled),
        extracted_by="rules",
    )
