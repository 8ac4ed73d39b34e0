"""Reads for product advice. Customers come through visible_customers; so does every advice row.

The profile is read in a fixed number of queries whatever the customer holds: the customer
(only the fields the snapshot and the rules read, so one date of birth is decrypted and no
other PII column is even loaded), their holdings, consents and recent interactions, and the
catalog version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.business_date import business_today
from apps.core.errors import NotFound
from apps.core.llm import NOT_CONFIGURED, llm_configured, model_name
from apps.core.windows import ADVICE_INTENT_DAYS
from apps.customers.models import Customer
from apps.customers.visibility import visible_customers, visible_scope
from apps.products.eligibility import CustomerFacts, Eligibility, ProductRules, evaluate, facts_of
from apps.products.models import Product, ProductRate
from apps.products.selectors import active_products, current_slabs
from apps.recommendations.hashing import canonical_json, catalog_version, profile_hash
from apps.recommendations.models import Recommendation, RecommendationFeedback
from apps.recommendations.prompts import PROMPT_VERSION
from apps.recommendations.rules import CatalogProduct, Gates, customer_gates
from apps.recommendations.snapshot import (
    ConsentFact,
    HoldingFact,
    InteractionFact,
    build_snapshot,
)

if TYPE_CHECKING:
    from apps.identity.models import User

# What the snapshot and the eligibility rules read of a customer, and nothing else.
PROFILE_FIELDS = (
    "id",
    "display_name",
    "kind",
    "date_of_birth",
    "segment",
    "annual_income",
    "income_currency",
    "risk_profile",
    "kyc_status",
    "kyc_review_date",
    "customer_since",
    "status",
    "branch_id",
)
RULES_MODEL = "rules"
# Bump when build_snapshot or the rules change meaning: part of the panel's fingerprint.
SNAPSHOT_VERSION = "1"
RECENT_INTERACTIONS = 50


@dataclass(frozen=True)
class Profile:
    customer: Customer
    snapshot: dict[str, Any]
    facts: CustomerFacts
    gates: Gates
    catalog_version: str
    engine_model: str  # the LLM model, or "rules" when no LLM is configured
    profile_hash: str
    today: dt.date


def advice_customer(*, user: User, customer_id: Any) -> Customer:
    """A customer the user may see, with only the fields advice needs (404 otherwise)."""
    try:
        return visible_customers(user=user).only(*PROFILE_FIELDS).get(pk=int(customer_id))
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None


def current_profile(*, customer: Customer, today: dt.date | None = None) -> Profile:
    """Snapshot, eligibility facts, gates and hash of a customer as of the business date."""
    from apps.accounts.models import HoldingParty
    from apps.customers.models import CustomerConsent
    from apps.interactions.models import Interaction

    today = today or business_today()
    holdings = [
        HoldingFact(
            category=row["holding__category"],
            product_id=row["holding__product_id"],
            product_code=row["holding__product__code"],
            product_category=row["holding__product__category"],
            currency=row["holding__currency"],
            balance=row["holding__balance"],
            role=row["role"],
            status=row["holding__status"],
            maturity_date=row["holding__maturity_date"],
            maturity_instruction=row["holding__maturity_instruction"],
        )
        for row in HoldingParty.objects.filter(customer_id=customer.pk)
        .exclude(holding__status="closed")
        .values(
            "role",
            "holding__category",
            "holding__product_id",
            "holding__product__code",
            "holding__product__category",
            "holding__currency",
            "holding__balance",
            "holding__status",
            "holding__maturity_date",
            "holding__maturity_instruction",
        )
        .order_by("holding_id")
    ]
    consents = [
        ConsentFact(channel=channel, purpose=purpose, granted=granted)
        for channel, purpose, granted in CustomerConsent.objects.filter(customer_id=customer.pk).values_list(
            "channel", "purpose", "granted"
        )
    ]
    # The window is counted back from the business date, so a replayed date sees what it saw then.
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=ADVICE_INTENT_DAYS + 1), dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    # Confidential entries stay out even as intents: only their author and compliance read them.
    interactions = [
        InteractionFact(
            channel=channel,
            occurred_on=timezone.localdate(occurred_at),
            subject=subject,
            outcome=outcome,
            next_step=next_step,
        )
        for channel, occurred_at, subject, outcome, next_step in Interaction.objects.filter(
            customer_id=customer.pk, occurred_at__gte=since, occurred_at__lt=until, is_confidential=False
        )
        .order_by("-occurred_at", "-id")
        .values_list("channel", "occurred_at", "subject", "outcome", "next_step")[:RECENT_INTERACTIONS]
    ]
    snapshot = build_snapshot(
        customer=customer, holdings=holdings, consents=consents, interactions=interactions, today=today
    )
    facts = facts_of(customer, today=today, held_product_ids={h.product_id for h in holdings})
    catalog = catalog_version(today=today)
    engine = model_name() if llm_configured() else RULES_MODEL
    return Profile(
        customer=customer,
        snapshot=snapshot,
        facts=facts,
        gates=customer_gates(snapshot),
        catalog_version=catalog,
        engine_model=engine,
        profile_hash=profile_hash(
            snapshot=snapshot, facts=facts, catalog=catalog, prompt_version=PROMPT_VERSION, model=engine
        ),
        today=today,
    )


def _data_version_sql() -> str:
    """One scalar over everything a profile is built from (per customer) and the catalog.

    Rows of every input carry an auto-updated timestamp or grow an id when they change: the
    customer (updated_at), their holdings and parties, consents (recorded_at), interactions
    (editable for a while: updated_at), products, rate rows and branch offers.
    """
    from apps.accounts.models import Holding, HoldingParty
    from apps.customers.models import CustomerConsent
    from apps.interactions.models import Interaction

    q = connection.ops.quote_name
    customer = f"{q(Customer._meta.db_table)}.{q('id')}"
    parties, holdings = q(HoldingParty._meta.db_table), q(Holding._meta.db_table)
    consents, interactions = q(CustomerConsent._meta.db_table), q(Interaction._meta.db_table)
    products, rates = q(Product._meta.db_table), q(ProductRate._meta.db_table)
    branches = q(Product.branches.through._meta.db_table)
    # Table names come from _meta and are quoted; there is no user input in this SQL.
    return (
        "SELECT concat_ws('|', "  # noqa: S608  # nosec B608
        f"(SELECT count(*) || ':' || coalesce(max(p.id), 0) || ':' || coalesce(max(h.updated_at)::text, '') "
        f"FROM {parties} p JOIN {holdings} h ON h.id = p.holding_id WHERE p.customer_id = {customer}), "
        f"(SELECT count(*) || ':' || coalesce(max(recorded_at)::text, '') "
        f"FROM {consents} WHERE customer_id = {customer}), "
        f"(SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at)::text, '') "
        f"FROM {interactions} WHERE customer_id = {customer}), "
        f"(SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM {products}), "
        f"(SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(created_at)::text, '') FROM {rates}), "
        f"(SELECT count(*) || ':' || coalesce(max(id), 0) FROM {branches}))"
    )


@dataclass(frozen=True)
class CustomerVersion:
    customer: Customer
    fingerprint: str  # changes whenever anything the profile (and so its hash) depends on changes


def customer_version(*, user: User, customer_id: Any, today: dt.date | None = None) -> CustomerVersion:
    """The visibility check and a fingerprint of the customer's advice inputs, in one query.

    The panel's cache-hit path maps this fingerprint to the profile hash it produced, so it
    does not rebuild the snapshot (four queries and a decryption) while nothing changed.
    """
    today = today or business_today()
    try:
        customer = (
            visible_customers(user=user)
            .only("id", "display_name", "updated_at")
            .annotate(advice_data_version=RawSQL(_data_version_sql(), []))  # noqa: S611  # nosec B611
            .get(pk=int(customer_id))
        )
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None
    engine = model_name() if llm_configured() else RULES_MODEL
    fingerprint = canonical_json(
        [customer.updated_at, customer.advice_data_version, today, engine, PROMPT_VERSION, SNAPSHOT_VERSION]
    )
    return CustomerVersion(customer=customer, fingerprint=hashlib.sha256(fingerprint.encode()).hexdigest())


def advice_catalog(*, today: dt.date) -> list[CatalogProduct]:
    """Active products with their rules and headline rate today (three queries)."""
    products = (
        Product.objects.filter(is_active=True)
        .prefetch_related("branches", Prefetch("rates", queryset=ProductRate.objects.order_by("effective_from")))
        .order_by("code")
    )
    catalog = []
    for product in products:
        slabs = current_slabs(list(product.rates.all()), on=today)
        catalog.append(
            CatalogProduct(
                rules=ProductRules.of(product),
                code=product.code,
                name=product.name,
                category=product.category,
                rate=max((slab.rate for slab in slabs), default=None),
            )
        )
    return catalog


def is_transient_fallback(source: str, fallback_reason: str) -> bool:
    """A rule-engine answer given because the LLM failed (not by design): retried sooner."""
    return source == Recommendation.Source.RULES and fallback_reason not in ("", NOT_CONFIGURED)


def stored_advice(*, customer_id: int, profile_hash: str) -> Recommendation | None:
    """The newest stored advice for this exact profile that is still fresh enough to serve."""
    now = timezone.now()
    ttl = dt.timedelta(seconds=settings.FINPULSE_RECOMMENDATION_CACHE_SECONDS)
    row = (
        Recommendation.objects.filter(customer_id=customer_id, profile_hash=profile_hash, created_at__gte=now - ttl)
        .defer("snapshot", "prompt", "response")
        .order_by("-created_at", "-id")
        .first()
    )
    fallback_lifetime = dt.timedelta(seconds=settings.FINPULSE_RECOMMENDATION_FALLBACK_CACHE_SECONDS)
    if (
        row is not None
        and is_transient_fallback(row.source, row.fallback_reason)
        and row.created_at < now - fallback_lifetime
    ):
        return None
    return row


def latest_advice(*, customer_id: int) -> Recommendation | None:
    return (
        Recommendation.objects.filter(customer_id=customer_id)
        .defer("snapshot", "prompt", "response")
        .order_by("-created_at", "-id")
        .first()
    )


def visible_recommendations(*, user: User) -> QuerySet[Recommendation]:
    """Advice on customers the user may see (the customer selector decides)."""
    return Recommendation.objects.filter(visible_scope(user=user, field="customer"))


def recommendation_for_user(*, user: User, recommendation_id: Any) -> Recommendation:
    try:
        return visible_recommendations(user=user).get(pk=int(recommendation_id))
    except (Recommendation.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such recommendation.") from None


def feedback_by_product(*, recommendation_id: int | None) -> dict[int, RecommendationFeedback]:
    if recommendation_id is None:
        return {}
    rows = RecommendationFeedback.objects.filter(recommendation_id=recommendation_id)
    return {row.product_id: row for row in rows}


# --- admin figures ---------------------------------------------------------------------------


def acceptance_by_product(*, recommendations: QuerySet[Recommendation]) -> list[dict[str, Any]]:
    """Per product: decisions taken on advice in `recommendations`, and the acceptance rate."""
    rows = (
        RecommendationFeedback.objects.filter(recommendation__in=recommendations.values("pk"))
        .values(code=F("product__code"), name=F("product__name"))
        .annotate(
            accepted=Count("id", filter=Q(decision=RecommendationFeedback.Decision.ACCEPTED)),
            dismissed=Count("id", filter=Q(decision=RecommendationFeedback.Decision.DISMISSED)),
        )
        .order_by("code")
    )
    result = []
    for row in rows:
        decided = row["accepted"] + row["dismissed"]
        result.append(
            {**row, "decided": decided, "rate": round(100 * row["accepted"] / decided, 1) if decided else None}
        )
    return result


def daily_costs(*, recommendations: QuerySet[Recommendation], days: int = 30) -> list[dict[str, Any]]:
    """Per day: how much advice was given, by which engine, the tokens and the estimated cost."""
    since = timezone.now() - dt.timedelta(days=days)
    # values() rows are dicts; django-stubs types them as a TypedDict, which list[dict] does not accept.
    rows: list[dict[str, Any]] = list(
        recommendations.filter(created_at__gte=since)  # type: ignore[arg-type]
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            advice=Count("id"),
            llm=Count("id", filter=Q(source=Recommendation.Source.LLM, from_cache=False)),
            rules=Count("id", filter=Q(source=Recommendation.Source.RULES)),
            reused=Count("id", filter=Q(from_cache=True)),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost=Sum("cost"),
        )
        .order_by("-day")
    )
    return rows


# --- the eligibility panel of the customer page: every product, eligible or not, and why ---


@dataclass
class ProductEligibility:
    product: Product
    result: Eligibility


@dataclass
class CustomerEligibility:
    customer: Any
    facts: CustomerFacts
    eligible: list[ProductEligibility]
    not_eligible: list[ProductEligibility]


def customer_eligibility(*, user: User, customer_id: Any, today: dt.date | None = None) -> CustomerEligibility:
    """Every active product, eligible or not with the reasons, for one customer the user sees.

    Four queries whatever the catalog size: the customer (only the fields the rules read, so
    one date of birth is decrypted and no other PII), the products they hold, the active
    products and their branches.
    """
    today = today or business_today()
    try:
        customer = (
            visible_customers(user=user)
            .only(
                "id",
                "display_name",
                "kind",
                "date_of_birth",
                "annual_income",
                "income_currency",
                "segment",
                "risk_profile",
                "branch_id",
            )
            .get(pk=int(customer_id))
        )
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None
    held = (
        HoldingParty.objects.filter(customer_id=customer.pk)
        .exclude(holding__status=Holding.Status.CLOSED)
        .values_list("holding__product_id", flat=True)
    )
    facts = facts_of(customer, today=today, held_product_ids=set(held))
    eligible: list[ProductEligibility] = []
    not_eligible: list[ProductEligibility] = []
    for product in active_products().prefetch_related("branches").order_by("category", "name", "id"):
        item = ProductEligibility(product=product, result=evaluate(facts, product))
        (eligible if item.result.eligible else not_eligible).append(item)
    return CustomerEligibility(customer=customer, facts=facts, eligible=eligible, not_eligible=not_eligible)
