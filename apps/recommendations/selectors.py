"""Reads for product advice. Customers come through visible_customers; so does every advice row.

The profile is read in a fixed number of queries whatever the customer holds: the customer
(only the fields the snapshot and the rules read, so one date of birth is decrypted and no
other PII column is even loaded), their holdings, consents and recent interactions, and the
catalog version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
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
from apps.core.windows import (
    ADVICE_INTENT_DAYS,
    RATE_PRECEDENCE,
    WholeMonthsBetween,
    advice_maturity_days,
    rate_slab_on,
)
from apps.customers.models import Customer
from apps.customers.visibility import visible_customers, visible_scope
from apps.products.eligibility import CustomerFacts, Eligibility, ProductRules, evaluate, facts_of
from apps.products.models import Product, ProductRate
from apps.products.selectors import active_products, current_slabs
from apps.recommendations.hashing import canonical_json, catalog_version, profile_hash
from apps.recommendations.models import Recommendation, RecommendationFeedback
from apps.recommendations.prompts import PROMPT_VERSION
from apps.recommendations.rules import CatalogProduct, Gates, customer_gates
from apps.recommendations.scoring import DEFAULT_RENEWAL_TERM, SCORING_VERSION, Maturity, Offer, Situation, product_kind
from apps.recommendations.snapshot import (
    SUMMARY_ROLES,
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
SNAPSHOT_VERSION = "2"
RECENT_INTERACTIONS = 50
# Holdings whose maturity calls for advice on where the money goes next.
MATURING_KINDS = ("term_deposit", "investment")
MAX_RENEWAL_TERM = 60


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
    situation: Situation = field(default_factory=lambda: Situation(today=dt.date.min))


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
    # values() rows are dicts; django-stubs types them as a TypedDict, which list[dict] does not accept.
    holding_rows: list[dict[str, Any]] = list(
        HoldingParty.objects.filter(customer_id=customer.pk)
        .exclude(holding__status="closed")
        .annotate(term_months=WholeMonthsBetween("holding__opened_on", "holding__maturity_date"))
        .values(
            "role",
            "term_months",
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
        .order_by("holding_id")  # type: ignore[arg-type]
    )
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
        for row in holding_rows
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
    situation = advice_situation(rows=holding_rows, today=today)
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
            snapshot=snapshot,
            facts=facts,
            catalog=catalog,
            prompt_version=f"{PROMPT_VERSION}/{SCORING_VERSION}",
            model=engine,
            situation=situation.digest_facts(),
        ),
        today=today,
        situation=situation,
    )


def advice_situation(*, rows: list[dict[str, Any]], today: dt.date) -> Situation:
    """What the scoring needs of the customer's holdings (rows of current_profile's query).

    Money the customer owns or shares, active: liquid balances per currency, the kinds and
    currencies held, and the holdings maturing within the advice horizon, each with the rate
    every deposit product in its currency pays for that amount on the maturity date.
    """
    own = [r for r in rows if r["holding__status"] == "active" and r["role"] in SUMMARY_ROLES]
    liquid: dict[str, Decimal] = {}
    current: dict[str, Decimal] = {}
    for row in own:
        currency, balance = row["holding__currency"], row["holding__balance"] or Decimal(0)
        if row["holding__category"] in ("current_account", "savings_account") and balance > 0:
            liquid[currency] = liquid.get(currency, Decimal(0)) + balance
            if row["holding__category"] == "current_account":
                current[currency] = current.get(currency, Decimal(0)) + balance
    horizon = today + dt.timedelta(days=advice_maturity_days())
    maturities = []
    for row in own:
        matures = row["holding__maturity_date"]
        if row["holding__category"] not in MATURING_KINDS or matures is None or not today <= matures <= horizon:
            continue
        amount = abs(row["holding__balance"] or Decimal(0))
        maturities.append(
            Maturity(
                kind=row["holding__category"],
                product_id=row["holding__product_id"],
                currency=row["holding__currency"],
                amount=amount,
                maturity_date=matures,
                term_months=row["term_months"],
                offers=maturity_offers(
                    currency=row["holding__currency"], amount=amount, on=matures, term_months=row["term_months"]
                ),
            )
        )
    maturities.sort(key=lambda m: (m.maturity_date, -m.amount, m.currency))
    return Situation(
        today=today,
        maturities=tuple(maturities),
        liquid=liquid,
        current=current,
        held_kinds=frozenset(r["holding__category"] for r in own),
        held_currencies=frozenset(r["holding__currency"] for r in own),
    )


def maturity_offers(*, currency: str, amount: Decimal, on: dt.date, term_months: int | None) -> tuple[Offer, ...]:
    """Each active deposit product's rate for `amount` on the maturity date, in its currency.

    The rate rule is apps.core.windows.rate_slab_on (newest effective slab for the amount and
    term, RATE_PRECEDENCE): one query for the holding's own term, one more at the default
    renewal term for products that do not offer that term. A holding's term outside 1-60
    months, or unknown, counts as the default.
    """
    term = term_months if term_months and 0 < term_months <= MAX_RENEWAL_TERM else DEFAULT_RENEWAL_TERM
    terms = [term] if term == DEFAULT_RENEWAL_TERM else [term, DEFAULT_RENEWAL_TERM]
    offers: dict[int, Offer] = {}
    for months in terms:
        slabs = (
            ProductRate.objects.filter(
                rate_slab_on(on=on, amount=amount, term_months=months),
                product__is_active=True,
                product__category=Product.Category.DEPOSIT,
                product__currency=currency,
            )
            .exclude(product_id__in=list(offers))
            .order_by("product_id", *RATE_PRECEDENCE)
            .distinct("product_id")
            .values_list("product_id", "rate", "product__min_term_months", "product__max_term_months")
        )
        for product_id, rate, min_term, max_term in slabs:
            has_term = bool(min_term or max_term)
            offers[product_id] = Offer(product_id=product_id, rate=rate, term_months=months if has_term else None)
    return tuple(sorted(offers.values(), key=lambda o: o.product_id))


def _data_version_sql() -> str:
    """One scalar over everything a profile is built from (per customer) and the catalog.

    Rows of every input carry an auto-updated timestamp or grow an id when they change: the
    customer (updated_at), their holdings and parties, consents (recorded_at), interactions
    (editable for a while: updated_at), products and branch offers. Rate rows are left out on
    purpose: a rate change invalidates only the advice it affects (invalidate_advice_for_rate).
    """
    from apps.accounts.models import Holding, HoldingParty
    from apps.customers.models import CustomerConsent
    from apps.interactions.models import Interaction

    q = connection.ops.quote_name
    customer = f"{q(Customer._meta.db_table)}.{q('id')}"
    parties, holdings = q(HoldingParty._meta.db_table), q(Holding._meta.db_table)
    consents, interactions = q(CustomerConsent._meta.db_table), q(Interaction._meta.db_table)
    products = q(Product._meta.db_table)
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
        [
            customer.updated_at,
            customer.advice_data_version,
            today,
            engine,
            PROMPT_VERSION,
            SNAPSHOT_VERSION,
            SCORING_VERSION,
        ]
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
        rate = max((slab.rate for slab in slabs), default=None)
        catalog.append(
            CatalogProduct(
                rules=ProductRules.of(product),
                code=product.code,
                name=product.name,
                category=product.category,
                rate=rate,
                kind=product_kind(
                    category=product.category,
                    rate=rate,
                    min_term_months=product.min_term_months,
                    max_term_months=product.max_term_months,
                ),
                currency=product.currency,
                min_amount=product.min_amount,
                max_amount=product.max_amount,
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
        Recommendation.objects.filter(
            customer_id=customer_id, profile_hash=profile_hash, created_at__gte=now - ttl, invalidated_at__isnull=True
        )
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


def servable_advice() -> QuerySet[Recommendation]:
    """Advice rows that may still be served: fresh enough and not invalidated by a rate change."""
    since = timezone.now() - dt.timedelta(seconds=settings.FINPULSE_RECOMMENDATION_CACHE_SECONDS)
    return Recommendation.objects.filter(invalidated_at__isnull=True, created_at__gte=since)


def advice_naming(*, product_id: int) -> QuerySet[Recommendation]:
    """Servable advice whose items name the product (JSON containment, one query)."""
    return servable_advice().filter(items__contains=[{"product_id": product_id}])


def holders_maturing_into(*, product_id: int, today: dt.date, effective_from: dt.date | None = None) -> QuerySet[Any]:
    """(customer id, maturity date) of owners and joint holders of the product whose holding
    matures within the advice horizon, on or after `effective_from` (the rate it renews at)."""
    start = max(today, effective_from) if effective_from else today
    horizon = today + dt.timedelta(days=advice_maturity_days())
    return HoldingParty.objects.filter(
        holding__product_id=product_id,
        holding__status=Holding.Status.ACTIVE,
        role__in=SUMMARY_ROLES,
        holding__maturity_date__gte=start,
        holding__maturity_date__lte=horizon,
    ).values_list("customer_id", "holding__maturity_date")


def rate_change_audience(
    *, product_id: int, today: dt.date, effective_from: dt.date | None = None
) -> tuple[dict[int, dt.date], set[int]]:
    """Customers a rate change of the product affects, for nobody (the invalidation job):
    holders maturing into it (customer id -> earliest maturity) and customers whose servable
    advice names it."""
    maturing: dict[int, dt.date] = {}
    for customer_id, matures in holders_maturing_into(
        product_id=product_id, today=today, effective_from=effective_from
    ):
        maturing[customer_id] = min(matures, maturing.get(customer_id, matures))
    advised = set(advice_naming(product_id=product_id).values_list("customer_id", flat=True).distinct())
    return maturing, advised


@dataclass
class AffectedCustomer:
    customer: Customer
    matures_on: dt.date | None
    in_advice: bool


@dataclass
class RateImpact:
    product: Product
    today: dt.date
    customers: list[AffectedCustomer]
    total: int  # the viewer's customers affected (the list shows the first IMPACT_LIST_MAX)


IMPACT_LIST_MAX = 50


def rate_impact(*, user: User, product_id: Any, today: dt.date | None = None) -> RateImpact:
    """The customers a rate change of this product affects, among those the user may see.

    Four queries whatever the book size: the product, the maturing holders, the advice naming
    it, and the visible customers among them (visible_customers decides, as everywhere).
    """
    today = today or business_today()
    try:
        product = Product.objects.only("id", "code", "name").get(pk=int(product_id))
    except (Product.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such product.") from None
    maturing, advised = rate_change_audience(product_id=product.pk, today=today)
    visible = visible_customers(user=user).filter(pk__in=set(maturing) | advised).only("id", "display_name")
    total = visible.count()
    rows = [
        AffectedCustomer(customer=customer, matures_on=maturing.get(customer.pk), in_advice=customer.pk in advised)
        for customer in visible.order_by("display_name", "id")[:IMPACT_LIST_MAX]
    ]
    return RateImpact(product=product, today=today, customers=rows, total=total)


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
