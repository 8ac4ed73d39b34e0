"""Run the evaluation: build each situation through the real services, ask for advice, compare.

Shared by tests/recommendations/test_evaluation.py (asserts the rule engine's top-1 agreement)
and benchmarks/advice_evaluation_bench.py (prints and writes the figures for both engines).
Nothing is patched: customers, holdings, consents and interactions go through their services,
advice through recommend_for_customer; the LLM path talks HTTP to an OpenAI-compatible server
on loopback that replays the answers in recorded_llm_answers.json.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from apps.accounts.services import open_holding
from apps.customers.models import Customer
from apps.customers.services import record_consent
from apps.interactions.services import log_interaction
from apps.products.models import Product
from apps.recommendations.models import Recommendation
from apps.recommendations.services import recommend_for_customer
from tests.customers.factories import CustomerFactory
from tests.recommendations.evaluation.catalog import build_catalog
from tests.recommendations.evaluation.situations import SITUATIONS, CustomerSituation

RECORDED_ANSWERS = Path(__file__).with_name("recorded_llm_answers.json")


@dataclass
class Built:
    situation: CustomerSituation
    customer: Customer


@dataclass
class Outcome:
    situation: CustomerSituation
    codes: list[str]
    reasons: list[str]
    source: str
    fallback_reason: str

    @property
    def top1(self) -> bool:
        return bool(self.codes) and self.codes[0] == self.situation.expect

    @property
    def top3(self) -> bool:
        return self.situation.expect in self.codes[:3]


def build_situations(*, today: dt.date, manager: Any) -> list[Built]:
    """The evaluation catalog and one customer per situation (consent to profiling given)."""
    products = build_catalog(today=today)
    built = []
    for number, situation in enumerate(SITUATIONS, start=1):
        built.append(Built(situation=situation, customer=_customer(situation, number, today, manager, products)))
    return built


def _customer(
    situation: CustomerSituation, number: int, today: dt.date, manager: Any, products: dict[str, Product]
) -> Customer:
    business = situation.kind == "business"
    customer = CustomerFactory(
        assigned_to=manager,
        external_id=f"EVAL{number:04d}",
        kind=situation.kind,
        company_name=f"Evaluation Company {number} Ltd" if business else "",
        first_name="" if business else "Eval",
        last_name="" if business else f"Customer {number}",
        date_of_birth=None if business else today.replace(year=today.year - situation.age) - dt.timedelta(days=40),
        segment=situation.segment,
        risk_profile=situation.risk,
        annual_income=situation.income,
        income_currency=situation.income_currency,
        kyc_status="verified",
        customer_since=today - dt.timedelta(days=365 * 6),
    )
    record_consent(actor=None, customer=customer, channel="email", purpose="profiling", granted=True)
    for index, holding in enumerate(situation.holdings, start=1):
        opened = today - dt.timedelta(days=holding.opened_days_ago)
        details: dict[str, Any] = {}
        if holding.matures_in_days is not None:
            details = {
                "maturity_date": today + dt.timedelta(days=holding.matures_in_days),
                "maturity_instruction": "renew",
            }
        open_holding(
            actor=None,
            external_id=f"EVAL{number:04d}-{index}",
            product=products[holding.product],
            category=holding.category,
            parties={customer: holding.role},
            currency=holding.currency,
            opened_on=opened,
            number=f"GB00EVAL{number:04d}{index:04d}",
            balance=holding.balance,
            **details,
        )
    occurred = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=9), dt.time(11)))
    for subject in situation.contacts:
        log_interaction(actor=manager, customer=customer, channel="phone", subject=subject, occurred_at=occurred)
    return customer


def advise(built: list[Built], *, before_each: Callable[[Built], None] | None = None) -> list[Outcome]:
    """Fresh advice for every situation (force: no cache), in the situations' order."""
    outcomes = []
    for entry in built:
        if before_each is not None:
            before_each(entry)
        row: Recommendation = recommend_for_customer(actor=None, customer=entry.customer, force=True)
        outcomes.append(
            Outcome(
                situation=entry.situation,
                codes=row.product_codes,
                reasons=[item["rationale"] for item in row.items],
                source=row.source,
                fallback_reason=row.fallback_reason,
            )
        )
    return outcomes


def agreement(outcomes: list[Outcome]) -> dict[str, Any]:
    total = len(outcomes)
    top1 = sum(outcome.top1 for outcome in outcomes)
    top3 = sum(outcome.top3 for outcome in outcomes)
    return {
        "situations": total,
        "top1_agreement": round(top1 / total, 4) if total else 0.0,
        "top3_agreement": round(top3 / total, 4) if total else 0.0,
        "top1_hits": top1,
        "top3_hits": top3,
        "misses": [
            {"id": o.situation.id, "expected": o.situation.expect, "got": o.codes[:3]} for o in outcomes if not o.top1
        ],
    }


def recorded_answers() -> dict[str, Any]:
    """Situation id -> the chat completion content the LLM answered (JSON object)."""
    return dict(json.loads(RECORDED_ANSWERS.read_text()))
