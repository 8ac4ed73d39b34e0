"""The rule engine: which products a customer may be offered, ranked, with reasons.

It decides the candidates for every piece of advice: the LLM only ever chooses among them,
and when the LLM is not configured or fails, the engine's own top products (with template
rationales) are the answer. Pure functions: the selector loads the catalog and the facts.

Eligibility per product is apps.products.eligibility (age, income, segment, risk, customer
type, branch, already held); on top of it two customer-level gates apply to all advice:
consent to profiling for product advice (GDPR: profiling needs a lawful basis the customer
gave), and a usable KYC state (no new product while KYC is expired or rejected).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.core.templatetags.finpulse import format_rate
from apps.products.eligibility import CustomerFacts, ProductRules, evaluate

BLOCKING_KYC = {"expired": "expired", "rejected": "rejected"}

# What a recent conversation was about -> the product categories it points to.
INTENT_CATEGORIES = {
    "savings": ("deposit",),
    "maturity": ("deposit", "investment"),
    "borrowing": ("loan",),
    "cards": ("card",),
    "investing": ("investment",),
    "travel_fx": ("card",),
    "business_banking": ("loan", "deposit"),
}
INTENT_WORDS = {
    "savings": "saving",
    "maturity": "a maturing product",
    "borrowing": "borrowing",
    "cards": "cards",
    "investing": "investing",
    "travel_fx": "spending abroad",
    "business_banking": "business banking",
}
# Holding categories -> product categories (what the customer already has of each kind).
HOLDING_CATEGORIES = {
    "current_account": "deposit",
    "savings_account": "deposit",
    "term_deposit": "deposit",
    "loan": "loan",
    "credit_card": "card",
    "investment": "investment",
}
CATEGORY_WORDS = {"deposit": "savings", "loan": "lending", "card": "card", "investment": "investment"}


@dataclass(frozen=True)
class CatalogProduct:
    """A product as the engine sees it: its rules plus what the advice shows."""

    rules: ProductRules
    code: str
    name: str
    category: str
    rate: Decimal | None = None  # the headline (best current) rate, in percent a year


@dataclass(frozen=True)
class Candidate:
    product_id: int
    code: str
    name: str
    category: str
    score: float
    rules_passed: tuple[str, ...]
    signals: tuple[str, ...] = field(default=())
    rate: Decimal | None = None

    def as_prompt(self) -> dict[str, Any]:
        return {
            "product_code": self.code,
            "name": self.name,
            "category": self.category,
            "rate_percent": str(self.rate) if self.rate is not None else None,
            "rule_score": round(self.score, 2),
            "why_it_fits": list(self.signals),
        }


@dataclass(frozen=True)
class Gates:
    passed: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def open(self) -> bool:
        return not self.failed


def customer_gates(snapshot: dict[str, Any]) -> Gates:
    """Customer-level rules every suggestion must pass, in words."""
    passed, failed = [], []
    if snapshot.get("consent", {}).get("profiling"):
        passed.append("The customer consented to profiling for product advice.")
    else:
        failed.append("The customer has not consented to profiling for product advice, so no product is suggested.")
    kyc = snapshot.get("kyc", {}).get("status", "")
    if kyc in BLOCKING_KYC:
        failed.append(f"KYC is {BLOCKING_KYC[kyc]}: it must be renewed before a new product is offered.")
    else:
        passed.append("KYC allows a new product.")
    if snapshot.get("relationship_status") == "closed":
        failed.append("The customer relationship is closed.")
    return Gates(passed=tuple(passed), failed=tuple(failed))


def _held_categories(snapshot: dict[str, Any]) -> set[str]:
    return {HOLDING_CATEGORIES.get(row["category"], row["category"]) for row in snapshot.get("holdings", [])}


def _score(product: CatalogProduct, facts: CustomerFacts, snapshot: dict[str, Any]) -> tuple[float, list[str]]:
    score, signals = 1.0, []
    intents = snapshot.get("recent_contacts", {}).get("intents", [])
    for intent in intents:
        if product.category in INTENT_CATEGORIES.get(intent, ()):
            score += 3
            signals.append(f"Recent contacts were about {INTENT_WORDS.get(intent, intent)}.")
            break
    maturing = [m for m in snapshot.get("upcoming_maturities", []) if m["category"] in ("term_deposit", "investment")]
    if maturing and product.category in ("deposit", "investment"):
        first = maturing[0]
        score += 2 if product.category == "deposit" else 1.5
        signals.append(
            f"A {first['category'].replace('_', ' ')} matures {first['matures_in']} "
            f"({first['currency']} {first['amount_band']})."
        )
    if product.category not in _held_categories(snapshot):
        score += 1
        signals.append(f"Holds no {CATEGORY_WORDS.get(product.category, product.category)} product with us yet.")
    if product.rules.eligible_segments and facts.segment in product.rules.eligible_segments:
        score += 1
        signals.append("Designed for the customer's segment.")
    risk = facts.risk_profile
    if product.category == "investment" and risk is not None and risk >= 4:
        score += 1
        signals.append("Suits a growth-oriented risk profile.")
    if product.category == "deposit" and risk is not None and risk <= 2:
        score += 1
        signals.append("Suits a cautious risk profile.")
    if product.rate is not None and product.category in ("deposit", "investment"):
        score += float(min(max(product.rate, Decimal(0)), Decimal(10))) / 10
    return score, signals


def candidates(*, facts: CustomerFacts, snapshot: dict[str, Any], catalog: Sequence[CatalogProduct]) -> list[Candidate]:
    """Every product the customer is eligible for, best first, each with the rules it passed.

    Nothing is proposed when a customer-level gate fails. Ties break on the product code, so
    the same inputs always give the same order (the cache and tests rely on it).
    """
    gates = customer_gates(snapshot)
    if not gates.open:
        return []
    found = []
    for product in catalog:
        result = evaluate(facts, product.rules)
        if not result.eligible or product.rules.product_id is None:
            continue
        score, signals = _score(product, facts, snapshot)
        found.append(
            Candidate(
                product_id=product.rules.product_id,
                code=product.code,
                name=product.name,
                category=product.category,
                score=round(score, 4),
                rules_passed=(*gates.passed, *result.passed),
                signals=tuple(signals),
                rate=product.rate,
            )
        )
    return sorted(found, key=lambda c: (-c.score, c.code))


def template_rationale(candidate: Candidate) -> str:
    """A plain rationale from the signals that scored the product (for the manager)."""
    parts = list(candidate.signals[:2])
    if candidate.rate is not None:
        parts.append(f"Current rate {format_rate(candidate.rate)} a year.")
    if not parts:
        parts.append("Eligible on every rule; no stronger signal in the profile.")
    return " ".join(parts) + " Check suitability with the customer before offering it."


def item_of(candidate: Candidate, *, rank: int, rationale: str, confidence: float | None) -> dict[str, Any]:
    return {
        "product_id": candidate.product_id,
        "product_code": candidate.code,
        "product_name": candidate.name,
        "category": candidate.category,
        "rank": rank,
        "score": candidate.score,
        "confidence": confidence,
        "rationale": rationale,
        "rules_passed": list(candidate.rules_passed),
    }


def rule_items(found: Sequence[Candidate], *, max_items: int) -> list[dict[str, Any]]:
    """The engine's own answer: its top products with template rationales."""
    return [
        item_of(candidate, rank=rank, rationale=template_rationale(candidate), confidence=None)
        for rank, candidate in enumerate(found[:max_items], start=1)
    ]
