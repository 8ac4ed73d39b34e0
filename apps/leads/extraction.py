"""The deterministic extractor: reads income, amount, purpose, intent and constraints by rule.

It serves when no LLM is configured or the LLM call fails, so it must never guess: a field it
cannot read with some certainty is None, and its confidences are capped below what the LLM
can report (RULES_MAX_CONFIDENCE), so a lead read only by rules reaches a person sooner.

Amounts are read in the forms people write them: "2.5k", "€250,000", "£1,800 a month",
"30k per year", "22.000 €", "1.450,00", "8 grand", "800 quid", "half a million", "thirty
thousand". An amount with a period (a month, per annum, pcm, every two weeks) is income unless
its context says it is a repayment, rent or fee; a salary without a period is yearly when it
is five figures or more. Day rates and ranges ("2-4k") are not turned into a monthly income.
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


# --- Amounts --------------------------------------------------------------------------------

_UNITS = {
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
}
_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD_NUMBER = re.compile(
    rf"\b((?:(?:{_WORD}|a|one)\s+hundred(?:\s+and)?\s+)?(?:(?:{_WORD})(?:[\s-]+(?:{_WORD}))?)?)\s*"
    r"\b(thousand|grand|million)\b",
    re.IGNORECASE,
)
_FRACTION_MILLION = re.compile(r"\b(half|quarter)\s+(?:of\s+)?a\s+million\b", re.IGNORECASE)
_A_MILLION = re.compile(r"\b(?:a|one)\s+million\b", re.IGNORECASE)
_MULTIPLIERS = {
    "k": 1000,
    "thousand": 1000,
    "grand": 1000,
    "m": 1000000,
    "mn": 1000000,
    "million": 1000000,
    "bn": 1000000000,
}


def _words_value(words: str) -> int | None:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words.lower().replace(" and ", " ")):
        if not word:
            continue
        if word == "hundred":
            current = max(current, 1) * 100
        elif word in ("a", "one") and current == 0:
            current = 1
        elif word in _UNITS:
            current += _UNITS[word]
        else:
            return None
    total += current
    return total or None


def _spell_out(text: str) -> str:
    """'half a million' → '500000', 'thirty thousand' → '30000' (so one number pattern reads all)."""
    text = _FRACTION_MILLION.sub(lambda m: "500000" if m.group(1).lower() == "half" else "250000", text)
    text = _A_MILLION.sub("1000000", text)

    def number(match: re.Match[str]) -> str:
        words = match.group(1).strip()
        if not words:
            return match.group(0)
        value = _words_value(words)
        if value is None:
            return match.group(0)
        return f"{value * _MULTIPLIERS[match.group(2).lower()]}"

    return _WORD_NUMBER.sub(number, text)


_CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
_CURRENCY_WORDS = {
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
}
_MONEY = re.compile(
    r"(?P<pre>[£€$]|\b(?:gbp|eur|usd)\s?)?"
    # Grouped thousands ("250,000", "22.000", "1.450,00", "250 000") or a plain number ("2.5", "5000").
    r"(?P<num>(?<![\d.,])\d{1,3}(?:(?P<sep>[,. ])\d{3})(?:(?P=sep)\d{3})*(?:[.,]\d{1,2})?(?!\d)"
    r"|(?<![\d.,])\d+(?:[.,]\d+)?)"
    r"(?:\s?(?P<mult>k|mn|m|million|thousand|grand|bn)\b)?"
    r"(?:\s?(?P<post>[£€$]|(?:euros?|eur|pounds?|quid|gbp|dollars?|usd)\b))?",
    re.IGNORECASE,
)
# A number followed by one of these is a duration, an age, a share, not money.
_NOT_MONEY_AFTER = re.compile(
    r"^\s*-?\s*(?:years?|yrs?|year-old|months?|mths?|weeks?|days?|hours?|%|percent|per\s?cent|miles?|km|"
    r"people|times|kids|children|cards|loans)\b|^%",
    re.IGNORECASE,
)
_YEAR_BEFORE = re.compile(r"\b(?:in|since|until|till|by|from|of)\s*$", re.IGNORECASE)
_RANGE_BEFORE = re.compile(r"\d\s*(?:-|–|to)\s*$")
_RANGE_AFTER = re.compile(r"^\s*(?:-|–|to)\s*\d")

# Periods right after an amount (words such as "net" or "take home" may sit in between).
_GAP = r"^\s*(?:(?:net|gross|after tax|take[- ]home|before tax|profit)\s*)?"
_PERIODS = [
    (
        "month",
        re.compile(
            _GAP
            + r"(?:(?:a|per|each|every|/)\s*(?:calendar\s+)?(?:month|mth|mo)\b|pcm\b|p\.?m\.?(?!\w)|p/m\b|monthly\b)",
            re.I,
        ),
    ),
    (
        "year",
        re.compile(_GAP + r"(?:(?:a|per|each|every|/)\s*(?:year|yr|annum)\b|p\.?a\.?(?!\w)|annually\b|yearly\b)", re.I),
    ),
    ("fortnight", re.compile(_GAP + r"(?:every\s+(?:two|2)\s+weeks|fortnightly|bi-?weekly|a\s+fortnight)\b", re.I)),
    ("week", re.compile(_GAP + r"(?:(?:a|per|each|every|/)\s*(?:week|wk)\b|weekly\b|p\.?w\.?(?!\w))", re.I)),
    ("day", re.compile(_GAP + r"(?:(?:a|per|each|every|/)\s*day\b|daily\b)", re.I)),
]
_MONTHLY_BEFORE = re.compile(r"\bmonthly\b", re.IGNORECASE)
_PER_MONTH = {
    "month": Decimal(1),
    "year": Decimal(1) / Decimal(12),
    "week": Decimal(52) / Decimal(12),
    "fortnight": Decimal(26) / Decimal(12),
}
_INCOME_WORDS = re.compile(
    r"\b(?:earn\w*|income|salary|salaries|take[- ]home|wages?|paid|pension|make|making|on)\b", re.IGNORECASE
)
_SALARY_WORDS = re.compile(r"\b(?:earn\w*|income|salary|wages?|job offer|paid)\b", re.IGNORECASE)
# A recurring amount that is spent, not earned.
_OUTGOING_BEFORE = re.compile(
    r"\b(?:repay\w*|rent|tuition|fees?|costs?|bills?|spend\w*|save|saving|instal+ments?|budget|afford\w*|"
    r"outgoings?|add|pay(?!\w*\s+off)|paying)\b",
    re.IGNORECASE,
)
_OUTGOING_AFTER = re.compile(r"^\W*(?:\w+\s+){0,3}?(?:repayments?|rent|instal+ments?|fees|outgoings?)\b", re.IGNORECASE)

# Context that makes an amount the one requested, or rules it out.
_REQUEST_BEFORE = re.compile(
    r"\b(?:borrow\w*|lend|loan|mortgage|financ\w*|need\w*|want\w*|would like|like|looking (?:for|to)|limit|"
    r"invest\w*|put|deposit|save|savings|balance|remaining|total|credit|cash|kredit|transfer)\b",
    re.IGNORECASE,
)
_REQUEST_AFTER = re.compile(
    r"^\W*(?:\w+\s+){0,2}?(?:loan|mortgage|limit|left|outstanding|owing|in total|to (?:put|invest|borrow|deposit|save|"
    r"start)|into)\b",
    re.IGNORECASE,
)
_PRICE_BEFORE = re.compile(
    r"\b(?:value|valued|worth|price[ds]?|costs?|house|houses|home|homes|flat|property|townhouse|turnover|"
    r"rent)\b",
    re.IGNORECASE,
)
_PRICE_AFTER = re.compile(r"^\W*(?:home|house|flat|property|apartment|car)\b", re.IGNORECASE)
_DEPOSIT_WORD = re.compile(r"\bdeposit\b", re.IGNORECASE)
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
    is_range: bool = False


def _parse_number(raw: str, sep: str | None) -> Decimal | None:
    text = raw.replace(" ", "")
    try:
        if sep in (",", ".", " "):
            # Grouped thousands; a final group of one or two digits after the other mark is decimals.
            decimal_mark = "." if sep in (",", " ") else ","
            whole, _, cents = (
                text.rpartition(decimal_mark)
                if re.search(rf"\{decimal_mark}\d{{1,2}}$", text)
                else (
                    text,
                    "",
                    "",
                )
            )
            whole = whole.replace(sep if sep != " " else "", "")
            return Decimal(f"{whole}.{cents}" if cents else whole)
        if "," in text:
            # "2,5" is a European decimal; "2,50" too.
            return Decimal(text.replace(",", "."))
        return Decimal(text)
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


def _amounts(text: str) -> list[_Amount]:
    found: list[_Amount] = []
    for match in _MONEY.finditer(text):
        value = _parse_number(match.group("num"), match.group("sep"))
        if value is None:
            continue
        mult = (match.group("mult") or "").lower()
        if mult:
            value *= _MULTIPLIERS[mult]
        currency = _currency_of(match)
        explicit = bool(mult or currency)
        digits = re.sub(r"\D", "", match.group("num"))
        before_text, after_text = text[: match.start()], text[match.end() :]
        if not explicit:
            if value < 100 or _NOT_MONEY_AFTER.match(after_text):
                continue
            if digits.startswith("0") and len(digits) >= 5:  # a phone number's fragment
                continue
            if 1950 <= value <= 2099 and len(digits) == 4 and _YEAR_BEFORE.search(before_text[-8:]):
                continue
        elif _NOT_MONEY_AFTER.match(after_text) and not currency:
            continue
        if value <= 0 or value > MAX_AMOUNT:
            continue
        found.append(
            _Amount(
                value=value,
                currency=currency,
                explicit=explicit,
                start=match.start(),
                end=match.end(),
                is_range=bool(_RANGE_BEFORE.search(before_text[-6:]) or _RANGE_AFTER.match(after_text)),
            )
        )
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
        amount.income_word = bool(_INCOME_WORDS.search(before) or re.search(r"take[- ]home", after, re.I))


def _is_outgoing(amount: _Amount) -> bool:
    return bool(_OUTGOING_BEFORE.search(amount.before) or _OUTGOING_AFTER.match(amount.after))


def _income(amounts: list[_Amount]) -> tuple[_Amount | None, Decimal | None, float]:
    """The monthly income, and how sure: an explicit period and an income word are best."""
    candidates: list[tuple[float, _Amount, Decimal]] = []
    for amount in amounts:
        if amount.is_range or _is_outgoing(amount):
            continue
        if amount.period == "day":
            continue  # a day rate: how many days a month is a guess
        if amount.period:
            monthly = amount.value * _PER_MONTH[amount.period]
            candidates.append((0.85 if amount.income_word else 0.7, amount, monthly))
        elif _SALARY_WORDS.search(amount.before):
            # "Salary 38k": five figures and up is yearly (how salaries are quoted), below is monthly.
            yearly = amount.value >= 10000
            candidates.append((0.6, amount, amount.value / 12 if yearly else amount.value))
    if not candidates:
        ranged = any(a.is_range and (a.period or a.income_word) for a in amounts)
        return None, None, 0.3 if ranged else 0.7
    candidates.sort(key=lambda c: -c[0])
    confidence, amount, monthly = candidates[0]
    if len({c[2] for c in candidates if c[0] == confidence}) > 1:
        confidence = min(confidence, 0.5)  # two different incomes stated equally firmly
    return amount, monthly.quantize(PENNY, rounding=ROUND_HALF_UP), confidence


def _requested(amounts: list[_Amount], income: _Amount | None, intent: str) -> tuple[_Amount | None, float]:
    """The amount asked for: the one with request words around it, never a price or a salary."""
    scored: list[tuple[int, _Amount]] = []
    for amount in amounts:
        if amount is income or amount.period or amount.is_range:
            continue
        if _SALARY_WORDS.search(amount.before) and amount.value >= 10000 and intent != Intent.INVESTMENT:
            continue
        score = 0
        if _REQUEST_BEFORE.search(amount.before) or _REQUEST_AFTER.match(amount.after):
            score += 2
        if _PRICE_BEFORE.search(amount.before) or _PRICE_AFTER.match(amount.after):
            score -= 2
        if intent == Intent.MORTGAGE and (
            _DEPOSIT_WORD.search(amount.before) or re.match(r"^\W*deposit\b", amount.after, re.I)
        ):
            score -= 3  # a mortgage "deposit" is what they have, not what they ask for
        scored.append((score, amount))
    if not scored:
        return None, 0.7
    best = max(score for score, _ in scored)
    top = [amount for score, amount in scored if score == best]
    if best >= 1:
        chosen = top[-1]  # "value 350k ... so we'd need 300k": the later request refines the earlier
        return chosen, 0.85 if chosen.explicit else 0.75
    if len(scored) == 1 and best >= 0:
        return scored[0][1], 0.55
    return None, 0.3


# --- Intent, purpose, constraints ------------------------------------------------------------

_INTENT_RULES: list[tuple[str, int, re.Pattern[str]]] = [
    (Intent.MORTGAGE, 3, re.compile(r"\b(?:re-?)?mortgage\b|\bhome loan\b|\bbuy[- ]to[- ]let\b", re.I)),
    (
        Intent.MORTGAGE,
        2,
        re.compile(
            r"\bfirst[- ]time buyers?\b|\bbuy(?:ing)? (?:a |my |our )?(?:first )?(?:house|home|flat|property)\b", re.I
        ),
    ),
    (Intent.CAR_LOAN, 3, re.compile(r"\bcar (?:loan|finance)\b|\bauto loan\b|\bvehicle finance\b", re.I)),
    (
        Intent.CAR_LOAN,
        2,
        re.compile(r"\b(?:car|cars|vehicle|van|motorbike|motorcycle|tesla|ford|bmw|audi|toyota|volkswagen|vw)\b", re.I),
    ),
    (Intent.CREDIT_CARD, 3, re.compile(r"\bcredit cards?\b|\bbalance transfer\b", re.I)),
    (
        Intent.DEPOSIT,
        3,
        re.compile(
            r"\b(?:savings account|fixed(?:[- ]term)? deposit|term deposit|deposit account|"
            r"fixed[- ]rate bond|cash isa|savings rate|isa)\b",
            re.I,
        ),
    ),
    (Intent.DEPOSIT, 1, re.compile(r"\b(?:savings|save|put away)\b", re.I)),
    (Intent.INVESTMENT, 3, re.compile(r"\binvest(?:ing|ment|ments)?\b|\bportfolio\b", re.I)),
    (Intent.INVESTMENT, 2, re.compile(r"\b(?:shares|stocks|funds|bonds|equities|etfs?)\b", re.I)),
    (Intent.PERSONAL_LOAN, 3, re.compile(r"\bpersonal loan\b|\bconsolidat\w*\b", re.I)),
    (
        Intent.PERSONAL_LOAN,
        1,
        re.compile(
            r"\bloans?\b|\bborrow\w*\b|\blend\b|\bcash\b|\bkredit\b|\bcr[ée]dito\b|"
            r"\bprestito\b|\bpr[êe]t\b",
            re.I,
        ),
    ),
]
# Business lending is not a retail product family here: it goes to a person (business banking).
_BUSINESS_LENDING = re.compile(r"\bbusiness (?:loan|lending|finance|overdraft)\b|\bcommercial loan\b", re.I)
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
        re.compile(
            r"\bconsolidat\w*|\bpay off\b|\bclear (?:my |our )?(?:\w+ )?debts?\b|"
            r"\bbalance transfer\b|\boverdraft\b",
            re.I,
        ),
    ),
    (
        LoanPurpose.EDUCATION,
        re.compile(r"\b(?:universit\w+|tuition|college|course|school fees|degree|studies)\b", re.I),
    ),
    (LoanPurpose.MEDICAL, re.compile(r"\b(?:medical|dental|surgery|hospital|treatment|dentist)\b", re.I)),
    (LoanPurpose.WEDDING, re.compile(r"\b(?:wedding|married|marry)\b", re.I)),
    (LoanPurpose.TRAVEL, re.compile(r"\b(?:holiday|trip|travel\w*|vacation)\b", re.I)),
    (LoanPurpose.BUSINESS, re.compile(r"\bbusiness\b|\brestaurant\b|\bmy (?:shop|company|firm)\b", re.I)),
    (
        LoanPurpose.HOME_IMPROVEMENT,
        re.compile(
            r"\b(?:renovat\w*|extension|kitchen|bathroom|roof|boiler|refurbish\w*|"
            r"home improvements?|repairs?|loft)\b",
            re.I,
        ),
    ),
    (LoanPurpose.REMORTGAGE, re.compile(r"\bre-?mortgag\w*|\bcurrent deal\b|\bswitch (?:my|our) mortgage\b", re.I)),
    (
        LoanPurpose.CAR_PURCHASE,
        re.compile(
            r"\b(?:car|cars|vehicle|van|motorbike|motorcycle|tesla|ford|bmw|audi|toyota|"
            r"volkswagen|vw)\b",
            re.I,
        ),
    ),
    (
        LoanPurpose.HOME_PURCHASE,
        re.compile(
            r"\bbuy(?:ing)?\b.{0,20}\b(?:house|home|flat|property|apartment)\b|"
            r"\bfirst[- ]time buyers?\b|\bbuy[- ]to[- ]let\b|\bpurchase\b|"
            r"\blooking at (?:homes|houses|flats|properties)\b",
            re.I,
        ),
    ),
]
_LOAN_INTENTS = {Intent.MORTGAGE, Intent.PERSONAL_LOAN, Intent.CAR_LOAN, Intent.CREDIT_CARD, Intent.OTHER}

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
    if _BUSINESS_LENDING.search(text):
        return Intent.OTHER, 0.6
    scores = dict.fromkeys(_INTENT_ORDER, 0)
    for intent, weight, pattern in _INTENT_RULES:
        if pattern.search(text):
            scores[intent] += weight
    # "Consolidate my car finance and two loans": the product asked for is the consolidation loan.
    if scores[Intent.PERSONAL_LOAN] >= 3:
        scores[Intent.CAR_LOAN] = min(scores[Intent.CAR_LOAN], 2)
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
    if intent not in _LOAN_INTENTS:
        return None, 0.8
    hits = [purpose for purpose, pattern in _PURPOSE_RULES if pattern.search(text)]
    if intent == Intent.CREDIT_CARD:
        hits = [p for p in hits if p == LoanPurpose.DEBT_CONSOLIDATION]
    if intent == Intent.MORTGAGE:
        hits = [
            p for p in hits if p in (LoanPurpose.HOME_IMPROVEMENT, LoanPurpose.REMORTGAGE, LoanPurpose.HOME_PURCHASE)
        ]
        if not hits and re.search(r"\bdeposit\b", text, re.I):
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
    requested, requested_confidence = _requested(amounts, income_amount, intent)
    purpose, purpose_confidence = _purpose(spelled, intent)
    if intent == Intent.OTHER and requested is not None and intent_confidence < 0.65:
        # "I need £7,500 to fix my roof": no product named, but money asked for a loan purpose.
        purpose, purpose_confidence = _purpose(spelled, Intent.PERSONAL_LOAN)
        if purpose not in (None, LoanPurpose.BUSINESS):
            intent, intent_confidence = Intent.PERSONAL_LOAN, 0.6
        else:
            purpose, purpose_confidence = _purpose(spelled, intent)
    currency = (requested.currency if requested else "") or (income_amount.currency if income_amount else "")
    cap = RULES_MAX_CONFIDENCE
    return Extraction(
        intent=intent,
        intent_confidence=min(intent_confidence, cap),
        monthly_income=monthly_income,
        monthly_income_confidence=min(income_confidence, cap),
        requested_amount=requested.value.quantize(PENNY) if requested else None,
        requested_amount_confidence=min(requested_confidence, cap),
        currency=currency,
        loan_purpose=purpose,
        loan_purpose_confidence=min(purpose_confidence, cap),
        constraints=_constraints(spelled),
        extracted_by="rules",
    )
