"""Reads of opportunities, scoped to who may see them. Every page, API call and admin list starts here.

An opportunity on a customer is visible exactly when its customer is (apps.customers.visibility,
the one rule); an opportunity on a lead follows the lead's rule (apps.leads.selectors.visible_leads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from apps.core.business_date import business_today
from apps.core.errors import NotFound
from apps.core.fields import encrypted_fields
from apps.customers.models import Customer
from apps.customers.visibility import customer_scope, may_hold_work_on
from apps.leads.selectors import ENCRYPTED as LEAD_ENCRYPTED
from apps.leads.selectors import visible_leads
from apps.opportunities.models import Opportunity, Stage

if TYPE_CHECKING:
    from apps.identity.models import User
    from apps.leads.models import Lead

# The board shows this many cards per column (the rest are counted, and found by filtering).
CARDS_PER_COLUMN = 50
# A customer's (or a lead's) page lists this many open opportunities; the rest are on the board.
OPEN_LISTED = 20
# Won and lost columns show what closed in the last days, so the board stays a working view.
CLOSED_SHOWN_DAYS = 30
# Related columns a card or a list never needs: personal data stays encrypted and unloaded.
UNLOADED = (
    *(f"customer__{f.name}" for f in encrypted_fields(Customer)),
    *(f"lead__{name}" for name in LEAD_ENCRYPTED),
)


# What the open-opportunities panel (templates/opportunities/_open_list.html) reads of a row.
OPEN_LIST_FIELDS = (
    "id",
    "customer_id",
    "lead_id",
    "amount",
    "currency",
    "expected_close",
    "product__name",
    "stage__name",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def visibility_filter(*, user: User) -> Q:
    """The filter behind visible_opportunities, for any query over opportunities."""
    on_customers = Q(customer__isnull=False) & customer_scope(user=user).rows("customer")
    on_leads = Q(lead__isnull=False, lead__in=visible_leads(user=user).values("pk"))
    return on_customers | on_leads


def visible_opportunities(*, user: User) -> QuerySet[Opportunity]:
    """Opportunities this user may see: those on customers they see, and on leads they see."""
    return Opportunity.objects.filter(visibility_filter(user=user))


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    """For cards and lists: what a card names, joined; no ciphertext loaded."""
    return (
        visible_opportunities(user=user)
        .select_related("customer", "lead", "product", "stage", "owner")
        .defer(*UNLOADED)
    )


def opportunity_for_user(*, user: User, opportunity_id: Any) -> Opportunity:
    """One opportunity the user may see; missing and forbidden look alike (404)."""
    try:
        return opportunity_list(user=user).get(pk=int(opportunity_id))
    except (Opportunity.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such opportunity.") from None


def board_stages() -> list[Stage]:
    """The board's columns, left to right: the active stages, the won and lost ends last."""
    return list(Stage.objects.filter(is_active=True).order_by("position"))


def open_stages() -> QuerySet[Stage]:
    return Stage.objects.filter(is_active=True, is_won=False, is_lost=False).order_by("position")


def first_open_stage() -> Stage:
    stage = open_stages().first()
    if stage is None:
        raise NotFound("No open stage is configured: an administrator adds one in the admin.")
    return stage


def closing_stage(*, won: bool) -> Stage:
    """The stage a win (or a loss) moves an opportunity to: the first active one of its kind."""
    stage = Stage.objects.filter(is_active=True, **({"is_won": True} if won else {"is_lost": True})).first()
    if stage is None:
        raise NotFound("No won or lost stage is configured: an administrator adds one in the admin.")
    return stage


@dataclass
class Column:
    stage: Stage
    cards: list[Opportunity] = field(default_factory=list)
    count: int = 0
    totals: list[tuple[str, Decimal]] = field(default_factory=list)  # (currency, amount)

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)


def board(*, user: User, mine_only: bool = False, today: dt.date | None = None) -> list[Column]:
    """The kanban board: one column per active stage with its cards (capped per column), how
    many there are and their totals per currency. Open opportunities in the open stages; what
    was won or lost in the last CLOSED_SHOWN_DAYS in the closing ones. Three queries, whatever
    the number of opportunities."""
    today = today or business_today()
    stages = board_stages()
    since = dt.datetime.combine(today - dt.timedelta(days=CLOSED_SHOWN_DAYS), dt.time.min, tzinfo=dt.UTC)
    rows = visible_opportunities(user=user).filter(
        Q(outcome=Opportunity.Outcome.OPEN) | Q(closed_at__gte=since), stage__is_active=True
    )
    if mine_only:
        rows = rows.filter(owner_id=user.pk)
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    totals = rows.values("stage_id", "currency").annotate(total=Sum("amount"), n=Count("pk")).order_by("currency")
    for row in totals:
        column = columns[row["stage_id"]]
        column.count += row["n"]
        column.totals.append((row["currency"], row["total"]))
    ranked = (
        opportunity_list(user=user)
        .filter(pk__in=rows.values("pk"))
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("stage_id")], order_by=[F("expected_close").asc(), F("id").asc()])
        )
        .order_by("stage__position", "expected_close", "id")
    )
    # Filtering on a window: Django wraps the ranked query in a subquery (one statement).
    for card in ranked.filter(rank__lte=CARDS_PER_COLUMN):
        columns[card.stage_id].cards.append(card)
    return [columns[stage.pk] for stage in stages]


def possible_owners(*, customer: Customer | None = None, lead: Lead | None = None) -> QuerySet[User]:
    """Who may own an opportunity: an active manager who can see its customer (or its lead)."""
    from apps.customers.visibility import active_managers

    if customer is not None:
        return may_hold_work_on(customer=customer)
    if lead is not None and lead.assignee_id:
        return active_managers().filter(pk=lead.assignee_id)
    return active_managers().none()


def customer_opportunities(*, user: User, customer: Customer) -> QuerySet[Opportunity]:
    """A customer's opportunities (open first), for its page."""
    return opportunity_list(user=user).filter(customer_id=customer.pk).order_by("closed_at", "expected_close", "id")


def open_opportunities_on(
    *, user: User, customer: Customer | None = None, lead: Lead | None = None
) -> QuerySet[Opportunity]:
    """The open opportunities on one customer (or one lead) that this user may see, soonest close
    first: what the customer 360 page and the lead page list. Through opportunity_list, so the
    visibility rule is the board's."""
    rows = (
        visible_opportunities(user=user)
        .filter(outcome=Opportunity.Outcome.OPEN)
        # Only what templates/opportunities/_open_list.html shows: the 360 page compiled and loaded
        # the customer, the lead and every column of five tables for it (decision 116).
        .select_related("product", "stage", "owner")
        .only(*OPEN_LIST_FIELDS)
        .order_by("expected_close", "id")
    )
    if customer is not None:
        return rows.filter(customer_id=customer.pk)
    if lead is not None:
        return rows.filter(lead_id=lead.pk)
    return rows.none()


def has_open_opportunities(customer: Any = None) -> Exists:
    """Whether any opportunity on the customer is open, as a column of a query over customers
    (`customer` defaults to the outer row's id). Whoever sees a customer sees every opportunity
    on it (visibility_filter's `on_customers`), so a page that loaded the customer through the
    visibility rule asks open_opportunities_on only when this is true."""
    on = OuterRef("pk") if customer is None else customer
    return Exists(Opportunity.objects.filter(customer_id=on, outcome=Opportunity.Outcome.OPEN))


@dataclass(frozen=True)
class Origin:
    """What an opportunity is opened from (an alert, accepted advice): its customer, what the
    form starts with, and the source recorded on the opportunity (one open opportunity each)."""

    customer: Customer
    initial: dict[str, Any]
    source: str
    source_object: str
    label: str


def maturity_alert_origin(*, user: User, alert_id: Any) -> Origin:
    """A maturity alert the user may see: the form starts from its holding's product (a renewal),
    its amount and currency, and closes by the maturity date."""
    from apps.accounts.models import Holding
    from apps.alerts.models import Alert
    from apps.alerts.selectors import alert_for_user

    alert = alert_for_user(user=user, alert_id=alert_id)
    if alert.rule != Alert.Rule.MATURITY:
        raise NotFound("Only a maturity alert opens an opportunity.")
    holding = (
        Holding.objects.filter(pk=alert.object_id, customers=alert.customer_id).only("product_id", "currency").first()
    )
    initial: dict[str, Any] = {"expected_close": alert.due_on, "amount": alert.amount}
    if holding is not None:
        initial |= {"product": holding.product_id, "currency": holding.currency}
    return Origin(
        customer=alert.customer,
        initial=initial,
        source=Opportunity.Source.MATURITY,
        source_object=f"alert:{alert.pk}",
        label=alert.reason,
    )


def accepted_advice_origin(*, user: User, recommendation_id: Any, product_id: Any) -> Origin:
    """A product the manager accepted from advice on a customer the user may see."""
    from apps.recommendations.models import RecommendationFeedback
    from apps.recommendations.selectors import recommendation_for_user

    advice = recommendation_for_user(user=user, recommendation_id=recommendation_id)
    feedback = (
        RecommendationFeedback.objects.filter(
            recommendation_id=advice.pk,
            product_id=int(product_id),
            decision=RecommendationFeedback.Decision.ACCEPTED,
        )
        .select_related("product")
        .first()
    )
    if feedback is None:
        raise NotFound("Accept the product in the advice first.")
    customer = Customer.objects.defer(*(f.name for f in encrypted_fields(Customer))).get(pk=advice.customer_id)
    return Origin(
        customer=customer,
        initial={"product": feedback.product_id, "currency": feedback.product.currency},
        source=Opportunity.Source.RECOMMENDATION,
        source_object=f"recommendation:{advice.pk}:{feedback.product_id}",
        label=feedback.product.name,
    )
