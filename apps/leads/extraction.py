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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from text_to_num import alpha2digit

from apps.leads.models import Constraint, Intent, LoanPurpose
from apps.leads.vocabulary import (
    BRIDGE_WORDS,
    BUSINESS_CREDIT_WORDS,
    BUSINESS_LENDING_WORDS,
    BUSINESS_WORDS,
    CAR_WORDS,
    CURRENCY_WORDS,
    DAY_PHRASES,
    FOR_A_HOME,
    FORTNIGHT_PHRASES,
    FRACTION_WORDS,
    HOME_WORDS,
    INTENT_WORDS,
    LANGUAGE_MARKERS,
    LANGUAGES,
    MONTH_PHRASES,
    MULTIPLIERS,
    NOT_MONEY_UNITS,
    OUTGOING_AFTER,
    PERIOD_GAP_WORDS,
    PRICE_PREPOSITIONS,
    PURPOSE_WORDS,
    REQUEST_AFTER,
    VOCAB,
    WEEK_PHRASES,
    YEAR_PHRASES,
    YEAR_PREPOSITIONS,
)

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


def _words(concept: str) -> str:
    """The union of a concept's fragments in every language, as one alternation."""
    fragments = sorted({f for words in VOCAB[concept].values() for f in words}, key=len, reverse=True)
    return "(?:" + "|".join(fragments) + ")"


def _pattern(concept: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){_words(concept)}(?!\w)", re.IGNORECASE)


def _union(table: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """Every language's fragments of one table, longest first (so alternation prefers them)."""
    return tuple(sorted({fragment for words in table.values() for fragment in words}, key=len, reverse=True))


_HOMES = "|".join(_union(HOME_WORDS))
_CARS = "|".join(_union(CAR_WORDS))
# --- Amounts --------------------------------------------------------------------------------

_MULTIPLIERS = MULTIPLIERS
_FRACTIONS = [
    (re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE), value)
    for lang in LANGUAGES
    for words, value in FRACTION_WORDS[lang]
]
_DIGITS_THEN_MULTIPLIER = re.compile(
    rf"(\d)\s+({'|'.join(sorted((w for w in _MULTIPLIERS if len(w) > 2), key=len, reverse=True))})\b", re.I
)
_MARKERS = {lang: frozenset(LANGUAGE_MARKERS[lang]) for lang in LANGUAGES}


def guess_language(text: str) -> str:
    """The inquiry's language by its frequent words (ties and no hit: English)."""
    tokens = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower())
    hits = {lang: sum(token in _MARKERS[lang] for token in tokens) for lang in LANGUAGES}
    return max(LANGUAGES, key=lambda lang: (hits[lang], lang == "en"))


def _spell_out(text: str, language: str) -> str:
    """Numbers written as words become digits: 'trenta mila' → '30000', 'half a million' → '500000'.

    text2num reads one language at a time ("un" is a number in French, "due" one in Italian),
    so the guessed language's rules apply; fractions of a million are read from the vocabulary.
    """
    for pattern, value in _FRACTIONS:
        text = pattern.sub(str(value), text)
    # "30 mil": digits with a multiplier word are read by _MONEY; text2num would read "mil" alone.
    text = _DIGITS_THEN_MULTIPLIER.sub(r"\1\2", text)
    try:
        return str(alpha2digit(text, language))
    except (ValueError, RuntimeError):  # text2num refuses some inputs; the digits stay as written
        return text


_CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
_CURRENCY_WORDS = CURRENCY_WORDS
_CURRENCY_WORD = "|".join(sorted(CURRENCY_WORDS, key=len, reverse=True))
# Thousands separators: comma, period, (narrow) no-break space, space, apostrophe (Swiss "1'200").
_SEP = "[,. '\u2019\u00a0\u202f]"
_MULT_WORDS = "|".join(sorted(_MULTIPLIERS, key=len, reverse=True))
_MONEY = re.compile(
    r"(?P<pre>[£€$]|\b(?:gbp|eur|usd|chf)\s?)?"
    # Grouped thousands ("250,000", "22.000", "1.450,00", "250 000", "1'200") or a plain number ("2.5", "5,5").
    rf"(?P<num>(?<![\d.,])\d{{1,3}}(?:(?P<sep>{_SEP})\d{{3}})(?:(?P=sep)\d{{3}})*(?:[.,]\d{{1,2}})?(?!\d)"
    r"|(?<![\d.,])\d+(?:[.,]\d+)?)"
    rf"(?:\s?(?P<mult>{_MULT_WORDS})\b)?"
    rf"(?:\s?(?P<post>[£€$]|(?:{_CURRENCY_WORD})\b))?",
    re.IGNORECASE,
)
# A number followed by one of these is a duration, an age, a share, not money.
_NOT_MONEY_AFTER = re.compile(
    rf"^\s*-?\s*(?:{'|'.join(_union(NOT_MONEY_UNITS))})\b|^\s?%",
    re.IGNORECASE,
)
_YEAR_BEFORE = re.compile(rf"\b(?:{'|'.join(_union(YEAR_PREPOSITIONS))})\s*$", re.I)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d+)?)\s?%")

_PERIODS = [
    ("month", re.compile(rf"^\s*(?:(?:{'|'.join(PERIOD_GAP_WORDS)})\s*)*(?:{'|'.join(MONTH_PHRASES)})", re.I)),
    ("year", re.compile(rf"^\s*(?:(?:{'|'.join(PERIOD_GAP_WORDS)})\s*)*(?:{'|'.join(YEAR_PHRASES)})", re.I)),
    ("fortnight", re.compile(rf"^\s*(?:(?:{'|'.join(PERIOD_GAP_WORDS)})\s*)*(?:{'|'.join(FORTNIGHT_PHRASES)})", re.I)),
    ("week", re.compile(rf"^\s*(?:(?:{'|'.join(PERIOD_GAP_WORDS)})\s*)*(?:{'|'.join(WEEK_PHRASES)})", re.I)),
    ("day", re.compile(rf"^\s*(?:{'|'.join(DAY_PHRASES)})", re.I)),
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
    rf"^\W*(?:\w+\s+){{0,3}}?(?:{'|'.join(_union(OUTGOING_AFTER))})\b",
    re.IGNORECASE,
)
_NOT_INCOME_BEFORE = _pattern("not_income")

_REQUEST_BEFORE = _pattern("request")
_REQUEST_AFTER = re.compile(
    rf"^\W*(?:\w+\s+){{0,2}}?(?:{'|'.join(_union(REQUEST_AFTER))})\b",
    re.IGNORECASE,
)
_PRICE_BEFORE = _pattern("price")
_BUY_BEFORE = _pattern("buy")
_PRICE_AFTER = re.compile(rf"^[\s£€$]*(?:{_HOMES}|{_CARS})\b", re.IGNORECASE)  # "a 300k house", not ", house"
_DOWN_WORDS = _words("down")
_DOWN_BEFORE = re.compile(rf"(?<!\w){_DOWN_WORDS}(?!\w)\W*(?:\w+\W+){{0,2}}$", re.IGNORECASE)
# Right after the amount ("4,000 down", "60.000 € di anticipo"), so a price followed by "with 10% down" is not one.
_DOWN_AFTER = re.compile(rf"^\W*(?:[^\W\d]+\W+)?{_DOWN_WORDS}(?!\w)", re.IGNORECASE)
_DOWN_SHARE_AFTER = re.compile(
    rf"^\W*(?:[^\W\d]+\W+)?{_DOWN_WORDS}\W+(?:[^\W\d]+\W+){{0,2}}\d{{1,2}}(?:[.,]\d+)?\s?%", re.IGNORECASE
)
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
    if _DOWN_SHARE_AFTER.match(amount.after):
        return False  # "240.000 €, anticipo del 25%": the down word introduces a share of this price
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
        if amount is income or amount.period:
            continue
        if amount.is_range and _INCOME_WORDS.search(amount.before):
            continue  # a range of earnings that was not taken as the income is still not a request
        if _SALARY_WORDS.search(amount.before) and amount.value >= 10000 and intent != Intent.INVESTMENT:
            continue
        request = bool(_REQUEST_BEFORE.search(amount.before) or _REQUEST_AFTER.match(amount.after))
        price = bool(
            _PRICE_BEFORE.search(amount.before)
            or _PRICED_BEFORE.search(amount.before)
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
        top_price = max(prices, key=lambda a: a.value)
        if downs and downs[0].value < top_price.value:
            return top_price.value - downs[0].value, top_price.currency or downs[0].currency, 0.7
        if share is not None:
            return top_price.value * (100 - share) / 100, top_price.currency, 0.7
    top = [amount for score, amount in scored if score == best]
    if best >= 1:
        chosen = top[-1]  # "value 350k ... so we'd need 300k": the later request refines the earlier
        if chosen.is_range:
            return chosen.value, chosen.currency, 0.5  # "30-40 mila": the midpoint, and a person looks
        return chosen.value, chosen.currency, 0.85 if chosen.explicit else 0.75
    if len(scored) == 1 and best >= 0:
        return scored[0][1].value, scored[0][1].currency, 0.5 if scored[0][1].is_range else 0.55
    return None, "", 0.3


# --- Intent, purpose, constraints ------------------------------------------------------------


def _any(*fragments: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(fragments) + r")(?!\w)", re.IGNORECASE)


_BUYING = _words("buy")
# "comprar un ático", "we're buying a 3-bed", "kaufen eine Eigentumswohnung": buying a home.
_BUYING_A_HOME = re.compile(rf"(?<!\w){_BUYING}(?!\w)\W+(?:[^\W\d]+\W+){{0,3}}?(?:{_HOMES})(?!\w)", re.I)
# "a 3-bed at 285k", "un studio à 160 000 €", "Gebrauchtwagen für 15.000 €": a home or a car's price.
_PRICED_BEFORE = re.compile(
    rf"(?<!\w)(?:{_HOMES}|{_CARS})\W+(?:[^\W\d]+\W+)?(?:{'|'.join(_union(PRICE_PREPOSITIONS))})"
    r"\W*(?:eur|chf|gbp|usd)?\W*$",
    re.I,
)
_BRIDGING = "|".join(_union(BRIDGE_WORDS))
_INTENT_RULES: list[tuple[str, int, re.Pattern[str]]] = [
    (intent, weight, _any(*_union(words))) for intent, weight, words in INTENT_WORDS
] + [
    (Intent.MORTGAGE, 2, _BUYING_A_HOME),
    (
        Intent.MORTGAGE,
        2,
        re.compile(
            rf"(?<!\w)(?:{_HOMES})\b.{{0,40}}?"
            rf"(?<!\w)(?:{_words('down')})(?!\w)",
            re.I,
        ),
    ),
]
_BUSINESS_LENDING = _any(*_union(BUSINESS_LENDING_WORDS))
_BUSINESS_NOUN = _any(*_union(BUSINESS_WORDS))
_BUSINESS_CREDIT = _any(*_union(BUSINESS_CREDIT_WORDS))
_INTENT_ORDER: list[str] = [
    Intent.MORTGAGE,
    Intent.CAR_LOAN,
    Intent.CREDIT_CARD,
    Intent.DEPOSIT,
    Intent.INVESTMENT,
    Intent.PERSONAL_LOAN,
]
_HOME_PURCHASE = re.compile(
    rf"{_BUYING_A_HOME.pattern}|\bfirst[- ]time buyers?\b|\bbuy[- ]to[- ]let\b|\bpurchase\b|"
    rf"\blooking at (?:homes|houses|flats|properties)\b|(?<!\w)(?:{_BRIDGING})(?!\w)|"
    rf"(?<!\w)(?:{'|'.join(_union(FOR_A_HOME))})\s+(?:\w+\s+)?(?:{_HOMES})(?!\w)",
    re.I,
)
_PURPOSE_RULES: list[tuple[str, re.Pattern[str]]] = [
    (purpose, _any(*_union(words))) for purpose, words in PURPOSE_WORDS
] + [(LoanPurpose.HOME_PURCHASE, _HOME_PURCHASE)]

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
    scores: dict[str, int] = dict.fromkeys(_INTENT_ORDER, 0)
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
        if not hits and re.search(rf"(?<!\w)(?:{_DOWN_WORDS}|{_BUYING})(?!\w)", text, re.I):
            hits = [LoanPurpose.HOME_PURCHASE]  # a deposit is put down to buy
    if not hits:
        return None, 0.6
    return hits[0], 0.75 if len(hits) == 1 else 0.6


def _constraints(text: str) -> tuple[str, ...]:
    return tuple(str(constraint) for constraint, pattern in _CONSTRAINT_RULES if pattern.search(text))


def extract(text: str, *, names: Iterable[str] = ()) -> Extraction:
    """Read one inquiry by rule. Confidences are capped at RULES_MAX_CONFIDENCE."""
    text = redact_contact_details(text or "", names=names)
    spelled = _spell_out(text, guess_language(text))
    intent, intent_confidence = _intent(text)
    amounts = _amounts(spelled)
    _contexts(spelled, amounts)
    income_amount, monthly_income, income_confidence = _income(amounts)
    requested, requested_currency, requested_confidence = _requested(spelled, amounts, income_amount, intent)
    purpose, purpose_confidence = _purpose(text, intent)
    if intent == Intent.OTHER and requested is not None and intent_confidence < 0.65:
        # "I need £7,500 to fix my roof": no product named, but money asked for a loan purpose.
        loan_purpose, loan_confidence = _purpose(text, Intent.PERSONAL_LOAN)
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
        constraints=_constraints(text),
        extracted_by="rules",
    )
