"""Ranking by fit: every scoring rule of product advice, with its weight, in one place.

docs/recommendations.md ("Scoring") explains each rule in a banker's words. The engine scores
only products the eligibility rules (apps.products.eligibility) already allow; on top of them:

1. A maturing deposit (or investment) calls for a place for that money on its maturity date:
   the products in the holding's currency that accept the amount, each at the rate valid on
   the maturity date (the selector reads it with apps.core.windows.rate_slab_on), best rate
   first. The maturing product itself may be renewed (it is "held", but it is what renews).
2. Segment and risk profile decide the investment products: none without an assessed risk
   profile; the closer the product's risk range sits to the customer's profile, and a product
   designed for the customer's segment, the higher.
3. Products already held drop (eligibility), and so do products duplicating a holding (a
   second current account, savings account or credit card).
4. A low-yield product (a current account, or any deposit paying under LOW_YIELD_RATE) is never
   proposed to a customer with a large balance (LARGE_BALANCE, in any one currency).
5. A product the customer could not fund (its minimum above what they have in its currency)
   or in a currency they neither hold nor earn in goes down or out.

Pure functions over what the selector loaded: no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from apps.core.templatetags.finpulse import format_rate
from apps.products.eligibility import BUSINESS, CustomerFacts, evaluate
from apps.products.models import RiskProfile, Segment
from apps.recommendations.rules import Candidate, CatalogProduct, customer_gates

# Part of the profile hash and the panel's fingerprint: bump it when a rule or weight changes, so
# advice ranked by the old rules is not served as if the new ones had produced it.
SCORING_VERSION = "2026-12-05.1"

# --- weights ---------------------------------------------------------------------------------
# Points add up; the highest total ranks first (ties: product code). The gaps between the big
# weights are wide on purpose: a maturing deposit outranks a conversation topic, which outranks
# a gap in the customer's products, and the rate only orders options within the same need.


@dataclass(frozen=True)
class Weights:
    maturity_place: float = 100.0  # a deposit product that can take the maturing money on its date
    maturity_same_kind: float = 10.0  # ...of the same kind as the maturing holding (fixed stays fixed)
    maturity_rate_per_point: float = 8.0  # ...per percentage point of the rate on the maturity date
    maturity_reinvest: float = 70.0  # an investment for maturing money (risk profile balanced or higher)
    intent: float = 75.0  # recent contacts asked about this kind of product: an ask beats an inferred need
    idle_cash: float = 40.0  # a large balance sits in current accounts earning little
    idle_cash_rate_per_point: float = 4.0  # ...per percentage point the product pays
    investable_wealth: float = 25.0  # investments for wealth-segment customers with money to invest
    growth_appetite_per_level: float = 20.0  # ...more per risk level above balanced
    first_savings: float = 10.0  # instant access first for someone with no savings and no large balance
    nothing_to_invest: float = -20.0  # an investment with no investing talk and under INVESTABLE_MIN to invest
    segment_fit: float = 8.0  # the product is designed for the customer's segment
    risk_fit: float = 12.0  # times closeness of the product's risk range to the customer's profile
    category_gap: float = 5.0  # the customer holds nothing of this category yet
    headline_rate_per_point: float = 0.5  # deposits and investments: a higher rate ranks a little higher
    currency_mismatch: float = -60.0  # the product's currency is one the customer neither holds nor earns
    unsolicited_lending: float = -20.0  # lending nobody asked about
    long_term_lending_without_home: float = -15.0  # a mortgage when the talk was not about a home


WEIGHTS = Weights()

# A balance at or above this, in one currency, is "large": low-yield products are not a place for it.
LARGE_BALANCE = Decimal("50000")
# Deposits paying less than this (percent a year) are low-yield.
LOW_YIELD_RATE = Decimal("1.00")
# Idle cash: at least this much in current accounts triggers savings advice.
IDLE_CASH_MIN = Decimal("20000")
# Wealth segments whose money to invest makes investment products worth raising unprompted.
WEALTH_SEGMENTS = (Segment.AFFLUENT, Segment.PREMIUM, Segment.PRIVATE)
INVESTABLE_MIN = Decimal("10000")
# Kinds of which one is enough: a second one duplicates a holding.
SINGLE_KINDS = frozenset({"current_account", "savings_account", "credit_card"})
# Loans this long (months, minimum term) are secured home lending.
LONG_TERM_LENDING_MONTHS = 60
DEFAULT_RENEWAL_TERM = 12
# A product whose points do not add up to more than this fits nothing the customer has or
# asked for (e.g. a mortgage nobody mentioned): it is not shown, even to fill the list.
MIN_FIT = 0.0

INTENT_CATEGORIES = {
    "savings": ("deposit",),
    "maturity": ("deposit", "investment"),
    "borrowing": ("loan",),
    "home_buying": ("loan",),
    "cards": ("card",),
    "investing": ("investment",),
    "travel_fx": ("card",),
    "business_banking": ("loan", "deposit"),
}
INTENT_WORDS = {
    "savings": "saving",
    "maturity": "a maturing product",
    "borrowing": "borrowing",
    "home_buying": "buying a home",
    "cards": "cards",
    "investing": "investing",
    "travel_fx": "spending abroad",
    "business_banking": "business banking",
}
KIND_WORDS = {
    "term_deposit": "fixed deposit",
    "savings_account": "savings account",
    "current_account": "current account",
    "investment": "investment",
    "loan": "loan",
    "credit_card": "credit card",
}
CATEGORY_OF_KIND = {
    "current_account": "deposit",
    "savings_account": "deposit",
    "term_deposit": "deposit",
    "loan": "loan",
    "mortgage": "loan",
    "credit_card": "card",
    "investment": "investment",
}


def product_kind(
    *, category: str, rate: Decimal | None, min_term_months: int | None, max_term_months: int | None
) -> str:
    """The kind of holding a product opens, in the holdings' own words (term_deposit, ...).

    The catalog has four categories; the kind follows from the terms: a deposit with a term is
    a fixed deposit, a deposit paying under LOW_YIELD_RATE is a current account, any other
    deposit a savings account; a loan with a minimum term of LONG_TERM_LENDING_MONTHS is a
    mortgage.
    """
    if category == "deposit":
        if min_term_months or max_term_months:
            return "term_deposit"
        if rate is None or rate < LOW_YIELD_RATE:
            return "current_account"
        return "savings_account"
    if category == "loan":
        return "mortgage" if (min_term_months or 0) >= LONG_TERM_LENDING_MONTHS else "loan"
    if category == "card":
        return "credit_card"
    return "investment"


# --- the customer's situation ----------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A product's rate for the maturing money on the maturity date (apps.core.windows rule)."""

    product_id: int
    rate: Decimal
    term_months: int | None


@dataclass(frozen=True)
class Maturity:
    """A holding maturing within the advice horizon (amount and date: no account number)."""

    kind: str  # term_deposit or investment
    product_id: int
    currency: str
    amount: Decimal
    maturity_date: dt.date
    term_months: int | None
    offers: tuple[Offer, ...] = ()

    def offer_for(self, product_id: int) -> Offer | None:
        return next((offer for offer in self.offers if offer.product_id == product_id), None)


@dataclass(frozen=True)
class Situation:
    """What the customer has, as the scoring needs it (owned or joint, active)."""

    today: dt.date
    maturities: tuple[Maturity, ...] = ()
    # Current and savings accounts per currency, and current accounts alone (idle cash).
    liquid: dict[str, Decimal] = field(default_factory=dict)
    current: dict[str, Decimal] = field(default_factory=dict)
    held_kinds: frozenset[str] = frozenset()
    held_currencies: frozenset[str] = frozenset()

    def funds(self, currency: str) -> Decimal:
        """What the customer could place in a currency: liquid balances and maturing money."""
        maturing = sum((m.amount for m in self.maturities if m.currency == currency), Decimal(0))
        return self.liquid.get(currency, Decimal(0)) + maturing

    @property
    def largest_balance(self) -> Decimal:
        currencies = set(self.liquid) | {m.currency for m in self.maturities}
        return max((self.funds(currency) for currency in currencies), default=Decimal(0))

    def digest_facts(self) -> list[Any]:
        """Exact figures the reasons quote, for the profile hash (hashed, never sent)."""
        return [
            [m.kind, m.product_id, m.currency, str(m.amount), m.maturity_date.isoformat(), m.term_months]
            for m in self.maturities
        ] + [sorted((k, str(v)) for k, v in self.liquid.items()), sorted((k, str(v)) for k, v in self.current.items())]


# --- words -----------------------------------------------------------------------------------


def amount_words(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.0f}"


def date_words(day: dt.date, today: dt.date) -> str:
    words = f"{day.day} {day:%b}"
    return words if day.year == today.year else f"{words} {day.year}"


def _risk_words(level: int) -> str:
    return str(RiskProfile(level).label).lower()


def _segment_words(code: str) -> str:
    return str(Segment(code).label).lower() if code in Segment.values else code


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class _Score:
    points: float = 0.0
    # (weight, words): the reason shown is the words of the heaviest signal
    signals: list[tuple[float, str]] = field(default_factory=list)

    def add(self, points: float, words: str = "") -> None:
        self.points += points
        if words:
            self.signals.append((points, words))


def _risk_closeness(product: CatalogProduct, risk: int) -> float:
    low = product.rules.min_risk_profile or 1
    high = product.rules.max_risk_profile or 5
    return max(0.0, 1 - abs((low + high) / 2 - risk) / 4)


def _excluded(product: CatalogProduct, facts: CustomerFacts, situation: Situation, renewing: set[int]) -> bool:
    kind = product.kind
    if kind in SINGLE_KINDS and kind in situation.held_kinds and product.rules.product_id not in renewing:
        return True
    is_low_yield = kind == "current_account" or (
        product.category == "deposit" and product.rate is not None and product.rate < LOW_YIELD_RATE
    )
    if is_low_yield and situation.largest_balance >= LARGE_BALANCE:
        return True
    if kind == "investment" and facts.risk_profile is None:
        return True
    # A placement the customer could not fund: its minimum is above what they have in its currency.
    return bool(
        kind in ("term_deposit", "investment")
        and product.min_amount
        and situation.funds(product.currency) < product.min_amount
    )


def _maturity_points(product: CatalogProduct, facts: CustomerFacts, situation: Situation, score: _Score) -> None:
    best: tuple[float, str] | None = None
    for maturity in situation.maturities:
        what = (
            f"{amount_words(maturity.amount, maturity.currency)} {KIND_WORDS.get(maturity.kind, 'holding')} "
            f"matures on {date_words(maturity.maturity_date, situation.today)}"
        )
        if product.currency != maturity.currency or not _accepts(product, maturity.amount):
            continue
        points, words = 0.0, ""
        offer = maturity.offer_for(product.rules.product_id or 0)
        if product.category == "deposit" and offer is not None:
            points = WEIGHTS.maturity_place + WEIGHTS.maturity_rate_per_point * float(offer.rate)
            if product.kind == maturity.kind:
                points += WEIGHTS.maturity_same_kind
            term = f"{offer.term_months}-month " if offer.term_months and product.kind == "term_deposit" else ""
            if product.rules.product_id == maturity.product_id:
                words = f"{what}; {term}renewal at {format_rate(offer.rate)}"
            elif term:
                words = f"{what}; {term}{product.name} at {format_rate(offer.rate)}"
            else:
                words = f"{what}; {product.name} at {format_rate(offer.rate)} on that date"
        elif product.kind == "investment" and facts.risk_profile is not None and facts.risk_profile >= 3:
            points = WEIGHTS.maturity_reinvest
            words = f"{what}; {product.name} suits a {_risk_words(facts.risk_profile)} risk profile"
        if points and (best is None or points > best[0]):
            best = (points, words)
    if best is not None:
        score.add(*best)


def _accepts(product: CatalogProduct, amount: Decimal) -> bool:
    if product.min_amount is not None and amount < product.min_amount:
        return False
    return product.max_amount is None or amount <= product.max_amount


def _score(product: CatalogProduct, facts: CustomerFacts, snapshot: dict[str, Any], situation: Situation) -> _Score:
    score = _Score()
    kind, category = product.kind, product.category
    _maturity_points(product, facts, situation, score)

    intents = snapshot.get("recent_contacts", {}).get("intents", [])
    home = "home_buying" in intents
    for intent in intents:
        if category in INTENT_CATEGORIES.get(intent, ()):
            if intent == "business_banking" and facts.kind != BUSINESS:
                continue
            rate = f" at {format_rate(product.rate)}" if product.rate is not None and category != "investment" else ""
            score.add(WEIGHTS.intent, f"Recent contacts were about {INTENT_WORDS[intent]}; {product.name}{rate}")
            break
    if category == "loan":
        if not any(intent in ("borrowing", "home_buying", "business_banking") for intent in intents):
            score.add(WEIGHTS.unsolicited_lending)
        elif kind == "mortgage" and not home:
            score.add(WEIGHTS.long_term_lending_without_home)
        elif kind == "mortgage" and home:
            score.add(WEIGHTS.intent / 2, f"Recent contacts were about buying a home; {product.name}")

    has_savings = bool({"savings_account", "term_deposit"} & situation.held_kinds)
    if kind == "savings_account" and not has_savings and situation.largest_balance < LARGE_BALANCE:
        score.add(WEIGHTS.first_savings)
    idle = max(situation.current.items(), key=lambda item: item[1], default=("", Decimal(0)))
    if (
        idle[1] >= IDLE_CASH_MIN
        and kind in ("savings_account", "term_deposit")
        and product.currency == idle[0]
        and product.rate is not None
        and (not has_savings or idle[1] >= LARGE_BALANCE)
    ):
        score.add(
            WEIGHTS.idle_cash + WEIGHTS.idle_cash_rate_per_point * float(product.rate),
            f"{amount_words(idle[1], idle[0])} sits in current accounts; {product.name} pays up to "
            f"{format_rate(product.rate)}",
        )

    if kind == "investment" and facts.risk_profile is not None:
        closeness = _risk_closeness(product, facts.risk_profile)
        score.add(WEIGHTS.risk_fit * closeness)
        funds = situation.funds(product.currency)
        if funds < INVESTABLE_MIN and "investing" not in intents:
            score.add(WEIGHTS.nothing_to_invest)
        if facts.segment in WEALTH_SEGMENTS and funds >= INVESTABLE_MIN and facts.risk_profile >= 2:
            appetite = WEIGHTS.growth_appetite_per_level * max(0, facts.risk_profile - 3)
            score.add(
                (WEIGHTS.investable_wealth + appetite) * closeness,
                f"{amount_words(funds, product.currency)} with us and a {_risk_words(facts.risk_profile)} risk "
                f"profile; {product.name} is designed for that profile",
            )
    segments = product.rules.eligible_segments
    # "Designed for" a segment: the product is kept for some segments, and the mass market is not one.
    if segments and Segment.MASS not in segments and facts.segment in segments:
        score.add(WEIGHTS.segment_fit, f"{product.name} is designed for {_segment_words(facts.segment)} clients")
    if CATEGORY_OF_KIND.get(kind, category) not in {CATEGORY_OF_KIND.get(k, k) for k in situation.held_kinds}:
        rate = f" at {format_rate(product.rate)}" if product.rate is not None and category != "investment" else ""
        score.add(WEIGHTS.category_gap, f"No {KIND_WORDS.get(kind, category)} with us yet; {product.name}{rate}")
    held = situation.held_currencies | {facts.income_currency} if facts.income_currency else situation.held_currencies
    if held and product.currency not in held:
        score.add(WEIGHTS.currency_mismatch)
    if product.rate is not None and category in ("deposit", "investment"):
        score.add(WEIGHTS.headline_rate_per_point * float(min(max(product.rate, Decimal(0)), Decimal(10))))
    return score


def _reason(product: CatalogProduct, score: _Score) -> str:
    """The heaviest signal's words; every reason names the product, so no two items read alike."""
    worded = [signal for signal in score.signals if signal[1] and signal[0] > 0]
    if worded:
        words = max(worded, key=lambda signal: signal[0])[1]
    else:
        rate = (
            f" at {format_rate(product.rate)}" if product.rate is not None and product.category != "investment" else ""
        )
        words = f"{product.name}{rate}: eligible on every rule, no stronger signal in the profile"
    return words + "."


def candidates(
    *,
    facts: CustomerFacts,
    snapshot: dict[str, Any],
    catalog: Sequence[CatalogProduct],
    situation: Situation | None = None,
) -> list[Candidate]:
    """Every product the customer is eligible for and that fits, best first, each with its reason.

    Nothing is proposed when a customer-level gate fails. Ties break on the product code, so
    the same inputs always give the same order (the cache and tests rely on it).
    """
    gates = customer_gates(snapshot)
    if not gates.open:
        return []
    situation = situation or Situation(today=dt.date.min)
    # The maturing holding's own product is what renews: "already held" does not bar it.
    renewing = {m.product_id for m in situation.maturities}
    renewal_facts = replace(facts, held_product_ids=frozenset(facts.held_product_ids - renewing))
    found = []
    for product in catalog:
        if product.rules.product_id is None:
            continue
        result = evaluate(renewal_facts if product.rules.product_id in renewing else facts, product.rules)
        if not result.eligible or _excluded(product, facts, situation, renewing):
            continue
        score = _score(product, facts, snapshot, situation)
        if score.points <= MIN_FIT:
            continue
        found.append(
            Candidate(
                product_id=product.rules.product_id,
                code=product.code,
                name=product.name,
                category=product.category,
                score=round(score.points, 4),
                rules_passed=(*gates.passed, *result.passed),
                signals=tuple(words for _, words in sorted(score.signals, key=lambda s: -s[0]) if words),
                rate=product.rate,
                reason=_reason(product, score),
            )
        )
    return sorted(found, key=lambda c: (-c.score, c.code))
