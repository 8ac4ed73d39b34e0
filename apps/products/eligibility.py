"""Product eligibility: pure rules over a customer's facts, with reasons in words.

No database access here: the caller builds `CustomerFacts` (and prefetches each product's
branches), so the same rules serve the customer page, the catalog and the recommendation
engine, and are tested without a database. Every rule that applies says whether it passed
and why, so a manager can tell a customer why a product is not open to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext, gettext_noop

from apps.products.models import Product, RiskProfile, Segment

INDIVIDUAL, BUSINESS = "individual", "business"


@dataclass(frozen=True)
class CustomerFacts:
    """What the rules need to know about a customer, and nothing more (no names, no ids)."""

    kind: str = INDIVIDUAL
    age: int | None = None
    annual_income: Decimal | None = None
    income_currency: str = ""
    segment: str = ""
    risk_profile: int | None = None
    branch_id: int | None = None
    held_product_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ProductRules:
    """A product's eligibility rules, detached from the ORM."""

    product_id: int | None
    is_active: bool = True
    currency: str = ""
    min_age: int | None = None
    max_age: int | None = None
    min_annual_income: Decimal | None = None
    eligible_segments: tuple[str, ...] = ()
    min_risk_profile: int | None = None
    max_risk_profile: int | None = None
    for_individuals: bool = True
    for_businesses: bool = False
    # None: offered at every branch.
    branch_ids: frozenset[int] | None = None

    @classmethod
    def of(cls, product: Product) -> ProductRules:
        """Read from a Product; prefetch `branches` when evaluating many products."""
        branch_ids = frozenset(branch.pk for branch in product.branches.all()) if product.pk else frozenset()
        return cls(
            product_id=product.pk,
            is_active=product.is_active,
            currency=product.currency,
            min_age=product.min_age,
            max_age=product.max_age,
            min_annual_income=product.min_annual_income,
            eligible_segments=tuple(product.eligible_segments or ()),
            min_risk_profile=product.min_risk_profile,
            max_risk_profile=product.max_risk_profile,
            for_individuals=product.for_individuals,
            for_businesses=product.for_businesses,
            branch_ids=branch_ids or None,
        )


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    passed: list[str]
    failed: list[str]


def age_on(date_of_birth: dt.date | None, today: dt.date) -> int | None:
    """Completed years on `today` (someone born on 29 February turns a year older on 1 March)."""
    if date_of_birth is None:
        return None
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - int(before_birthday)


def _segment_label(code: str) -> str:
    return str(Segment(code).label) if code in Segment.values else code or "none"


def _risk_label(level: int | None) -> str:
    return str(RiskProfile(level).label) if level in RiskProfile.values else "not assessed"


def _amount(value: Decimal, currency: str) -> str:
    return f"{currency} {value:,.0f}".strip()


def _age_range(rules: ProductRules) -> str:
    if rules.min_age is not None and rules.max_age is not None:
        return f"aged {rules.min_age} to {rules.max_age}"
    if rules.min_age is not None:
        return f"aged {rules.min_age} or over"
    return f"aged {rules.max_age} or under"


def _risk_range(rules: ProductRules) -> str:
    low, high = rules.min_risk_profile, rules.max_risk_profile
    if low is not None and high is not None:
        return f"risk profile {_risk_label(low)} to {_risk_label(high)}"
    if low is not None:
        return f"risk profile {_risk_label(low)} or higher"
    return f"risk profile {_risk_label(high)} or lower"


def describe_rules(product: Product | ProductRules) -> list[str]:
    """The product's rules in words, for the catalog."""
    rules = product if isinstance(product, ProductRules) else ProductRules.of(product)
    # Shown on the catalog page only (not stored, not read by the LLM): in the reader's language where
    # the sentence is fixed; the sentences with a range or an amount are still English (issue 21).
    kinds = {
        (True, True): gettext("For individuals and businesses."),
        (True, False): gettext("For individuals."),
        (False, True): gettext("For businesses."),
        (False, False): gettext("Not open to any customer type."),
    }
    words = [kinds[(bool(rules.for_individuals), bool(rules.for_businesses))]]
    if rules.min_age is not None or rules.max_age is not None:
        words.append(f"Individuals {_age_range(rules)}.")
    if rules.min_annual_income is not None:
        words.append(f"Annual income of at least {_amount(rules.min_annual_income, rules.currency)}.")
    if rules.eligible_segments:
        words.append("Segments: " + ", ".join(_segment_label(s) for s in rules.eligible_segments) + ".")
    if rules.min_risk_profile is not None or rules.max_risk_profile is not None:
        words.append(f"Customers with a {_risk_range(rules)}.")
    words.append(
        gettext("Offered at selected branches only.") if rules.branch_ids else gettext("Offered at every branch.")
    )
    return words


def evaluate(customer_facts: CustomerFacts, product: Product | ProductRules) -> Eligibility:
    """Check every rule of the product against the customer; eligible when none failed."""
    facts = customer_facts
    rules = product if isinstance(product, ProductRules) else ProductRules.of(product)
    passed: list[str] = []
    failed: list[str] = []

    def check(ok: bool, yes: str, no: str) -> None:
        (passed if ok else failed).append(yes if ok else no)

    if not rules.is_active:
        failed.append(gettext_noop("The product is no longer offered."))

    if facts.kind == BUSINESS:
        check(
            rules.for_businesses,
            gettext_noop("Open to business customers."),
            gettext_noop("Only for individual customers."),
        )
    else:
        check(
            rules.for_individuals,
            gettext_noop("Open to individual customers."),
            gettext_noop("Only for business customers."),
        )

    # Age limits protect individuals (minors, retirement-age lending); a company has no age.
    if facts.kind != BUSINESS and (rules.min_age is not None or rules.max_age is not None):
        if facts.age is None:
            failed.append(f"Date of birth unknown; the product is for customers {_age_range(rules)}.")
        else:
            too_young = rules.min_age is not None and facts.age < rules.min_age
            too_old = rules.max_age is not None and facts.age > rules.max_age
            check(
                not (too_young or too_old),
                f"Age {facts.age} is within the limit ({_age_range(rules)}).",
                f"Age {facts.age} is outside the limit: the product is for customers {_age_range(rules)}.",
            )

    if rules.min_annual_income is not None:
        minimum = _amount(rules.min_annual_income, rules.currency)
        if facts.annual_income is None:
            failed.append(f"Income unknown; the product needs at least {minimum} a year.")
        elif facts.income_currency and rules.currency and facts.income_currency != rules.currency:
            failed.append(
                f"Income is recorded in {facts.income_currency}; the rule ({minimum}) is in {rules.currency} "
                "and needs a manual check."
            )
        else:
            income = _amount(facts.annual_income, rules.currency)
            check(
                facts.annual_income >= rules.min_annual_income,
                f"Annual income {income} meets the minimum of {minimum}.",
                f"Annual income {income} is below the minimum of {minimum}.",
            )

    if rules.eligible_segments:
        allowed = ", ".join(_segment_label(s) for s in rules.eligible_segments)
        check(
            facts.segment in rules.eligible_segments,
            f"Segment {_segment_label(facts.segment)} is eligible.",
            f"Segment {_segment_label(facts.segment)} is not eligible (only {allowed}).",
        )

    if rules.min_risk_profile is not None or rules.max_risk_profile is not None:
        if facts.risk_profile is None:
            failed.append(f"Risk profile not assessed; the product needs a {_risk_range(rules)}.")
        else:
            low_ok = rules.min_risk_profile is None or facts.risk_profile >= rules.min_risk_profile
            high_ok = rules.max_risk_profile is None or facts.risk_profile <= rules.max_risk_profile
            check(
                low_ok and high_ok,
                f"Risk profile {_risk_label(facts.risk_profile)} suits the product ({_risk_range(rules)}).",
                f"Risk profile {_risk_label(facts.risk_profile)} does not suit the product "
                f"(it needs a {_risk_range(rules)}).",
            )

    if rules.branch_ids:
        check(
            facts.branch_id in rules.branch_ids,
            gettext_noop("Offered at the customer's branch."),
            gettext_noop("Not offered at the customer's branch."),
        )

    if rules.product_id is not None:
        check(
            rules.product_id not in facts.held_product_ids,
            gettext_noop("Does not hold this product yet."),
            gettext_noop("Already holds this product."),
        )

    return Eligibility(eligible=not failed, passed=passed, failed=failed)


def facts_of(customer: Any, *, today: dt.date, held_product_ids: Iterable[int] = ()) -> CustomerFacts:
    """Facts from a Customer row (reads date_of_birth: decrypt one customer, never a list)."""
    return CustomerFacts(
        kind=customer.kind,
        age=age_on(customer.date_of_birth, today),
        annual_income=customer.annual_income,
        income_currency=customer.income_currency or "",
        segment=customer.segment,
        risk_profile=customer.risk_profile,
        branch_id=customer.branch_id,
        held_product_ids=frozenset(held_product_ids),
    )
