"""The rule engine's shapes: catalog products, candidates, customer gates, advice items.

Ranking lives in apps.recommendations.scoring. The engine decides the candidates for every
piece of advice: the LLM only ever chooses among them,
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

from django.utils.translation import gettext_noop

from apps.products.eligibility import ProductRules

BLOCKING_KYC = {"expired": "expired", "rejected": "rejected"}


@dataclass(frozen=True)
class CatalogProduct:
    """A product as the engine sees it: its rules plus what the advice shows."""

    rules: ProductRules
    code: str
    name: str
    category: str
    rate: Decimal | None = None  # the headline (best current) rate, in percent a year
    kind: str = ""  # the holding it opens: term_deposit, savings_account, ... (scoring.product_kind)
    currency: str = "GBP"
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None


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
    # The fact that put the product here, in the customer's terms (amount, currency, date, rate).
    reason: str = ""

    def as_prompt(self) -> dict[str, Any]:
        return {
            "product_code": self.code,
            "name": self.name,
            "category": self.category,
            "rate_percent": str(self.rate) if self.rate is not None else None,
            "rule_score": round(self.score, 2),
            "why_it_fits": self.reason,
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
        passed.append(gettext_noop("The customer consented to profiling for product advice."))
    else:
        failed.append(
            gettext_noop("The customer has not consented to profiling for product advice, so no product is suggested.")
        )
    kyc = snapshot.get("kyc", {}).get("status", "")
    if kyc in BLOCKING_KYC:
        failed.append(f"KYC is {BLOCKING_KYC[kyc]}: it must be renewed before a new product is offered.")
    else:
        passed.append(gettext_noop("KYC allows a new product."))
    if snapshot.get("relationship_status") == "closed":
        failed.append(gettext_noop("The customer relationship is closed."))
    return Gates(passed=tuple(passed), failed=tuple(failed))


def template_rationale(candidate: Candidate) -> str:
    """The fact that ranked the product, in the customer's terms (apps.recommendations.scoring)."""
    return candidate.reason or f"{candidate.name}: eligible on every rule, no stronger signal in the profile."


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
