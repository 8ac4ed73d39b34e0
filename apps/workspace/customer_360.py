"""The customer 360 page: one customer, their holdings, documents and household, in fixed queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, Func, JSONField, OuterRef, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.encoding import force_str

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.positions import (
    LIABILITY_CATEGORIES,
    CurrencyPosition,
    counts_toward_position,
    household_position,
    position_of_loaded,
)
from apps.approvals.selectors import has_pending_changes, pending_changes_for_customer
from apps.core.compiled import CompiledQuery
from apps.core.errors import NotFound
from apps.customers.household import HouseholdMember, household_links, household_of
from apps.customers.models import PII_FIELDS, Customer, IdentityDocument
from apps.customers.visibility import CustomerScope, can_reveal_pii, customer_scope, visible_customers
from apps.opportunities.selectors import OPEN_LISTED, has_open_opportunities, open_opportunities_on
from apps.products.models import Product

if TYPE_CHECKING:
    from apps.identity.models import User


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass
class HoldingGroup:
    category: str
    label: str
    is_liability: bool
    holdings: list[Any]  # Holding rows, each with .role (the customer's role on it)
    totals: list[Money]


@dataclass
class Customer360:
    customer: Customer
    holding_groups: list[HoldingGroup]
    positions: list[CurrencyPosition]
    chart: list[dict[str, Any]]
    documents: list[IdentityDocument]
    household: list[HouseholdMember]
    household_positions: list[CurrencyPosition]
    # Holdings the customer is beneficiary or power of attorney of: listed, never counted.
    other_holdings: list[Any] = field(default_factory=list)
    can_reveal_pii: bool = False
    revealed: dict[str, Any] = field(default_factory=dict)
    # Open opportunities on the customer (apps.opportunities.selectors: the same visibility rule).
    opportunities: list[Any] = field(default_factory=list)
    more_opportunities: bool = False
    # Four-eyes changes about the customer waiting for a second person (break-glass, erasure, bulk).
    pending_changes: list[Any] = field(default_factory=list)

    @property
    def household_outside_book(self) -> bool:
        """Some relative is outside the viewer's book: the household totals leave them out."""
        return any(member.outside_book for member in self.household)


# The customer's holdings (not closed) with their role and product's name, as a column of the
# customer's own statement (a statement of their own before, compiled once: decisions 131, 185):
# each an array of _HOLDING_FIELDS' values, the party's role last but one and the product's name
# last, in the order the page lists them. Money and rates travel as text (a JSON number would be
# read as a float), dates as ISO text; each is made into its field's Python value by the field.
_HOLDING_FIELDS = (
    "id",
    "category",
    "product_id",
    "number_hint",
    "currency",
    "balance",
    "rate",
    "opened_on",
    "maturity_date",
    "maturity_instruction",
    "status",
)
_AS_TEXT = frozenset({"balance", "rate"})


def _holdings_column() -> ArraySubquery:
    values = [
        Cast(f"holding__{name}", TextField()) if name in _AS_TEXT else F(f"holding__{name}") for name in _HOLDING_FIELDS
    ]
    return ArraySubquery(
        HoldingParty.objects.filter(customer_id=OuterRef("pk"))
        .exclude(holding__status=Holding.Status.CLOSED)
        .order_by("holding__category", "holding__opened_on", "holding_id")
        .values_list(
            Func(
                *values,
                F("role"),
                F("holding__product__name"),
                function="jsonb_build_array",
                output_field=JSONField(),
            )
        )
    )


def _holdings_of(rows: list[list[Any]], *, using: str | None) -> list[tuple[str, Holding]]:
    """(the customer's role, the holding) for each row of _holdings_column: the holding made as
    the ORM makes it (from_db, the fields not read deferred), its product with only its name."""
    by_attname = {field.attname: field for field in Holding._meta.concrete_fields}
    fields = [by_attname[name] for name in _HOLDING_FIELDS]
    attnames = list(_HOLDING_FIELDS)
    holdings = []
    for row in rows:
        *values, role, product_name = row
        holding = Holding.from_db(
            using, attnames, [field.to_python(value) for field, value in zip(fields, values, strict=True)]
        )
        holding.product = Product.from_db(using, ["id", "name"], [holding.product_id, product_name])
        holdings.append((role, holding))
    return holdings


# The customer's identity documents (the number deferred, never read here), soonest expiry first,
# as a column of the customer's own statement: each an array of _DOCUMENT_FIELDS' values, made
# into instances as the ORM makes them (from_db: the other fields deferred). A statement of their
# own before (decision 183).
_DOCUMENT_FIELDS = ("id", "customer_id", "document_type", "number_hint", "issuing_country", "issued_on", "expiry_date")


def _documents_column() -> ArraySubquery:
    return ArraySubquery(
        IdentityDocument.objects.filter(customer_id=OuterRef("pk"))
        .order_by("expiry_date", "id")
        .values_list(Func(*map(F, _DOCUMENT_FIELDS), function="jsonb_build_array", output_field=JSONField()))
    )


def _documents_of(rows: list[list[Any]], *, using: str | None) -> list[IdentityDocument]:
    by_attname = {field.attname: field for field in IdentityDocument._meta.concrete_fields}
    fields = [by_attname[name] for name in _DOCUMENT_FIELDS]
    attnames = list(_DOCUMENT_FIELDS)
    return [
        IdentityDocument.from_db(
            using, attnames, [field.to_python(value) for field, value in zip(fields, row, strict=True)]
        )
        for row in rows
    ]


# The customer, as the page reads it, for a manager who sees their own customers (the 360 page's
# usual reader): compiled once per process with markers for the customer, the visibility rule's
# held-ids subquery (the viewer's own held_ids_sql spliced in at each run) and the instant; the
# ORM built and compiled it for each request (1.6 ms of CPU, decision 160).
# Stands for the customer's id while the statement is compiled (never a customer's id).
_MARK_CUSTOMER = -20261206
_MARK_HELD = -20261209
_MARK_NOW = dt.datetime(1901, 1, 1, 0, 0, 9, tzinfo=dt.UTC)


def _with_page_columns(customers: QuerySet[Customer], now: dt.datetime | None = None) -> QuerySet[Customer]:
    """The page's customer query over some customers: branch and manager, PII deferred, and
    whether changes wait (four eyes) and opportunities are open, the household links and the
    identity documents, in the same round trip."""
    return (
        customers.select_related("branch", "primary_manager")
        .defer(*PII_FIELDS)
        # Four eyes: whether changes about the customer wait for a second person, in this round trip.
        .annotate(has_pending_changes=has_pending_changes(now=now))
        # Whether any opportunity on the customer is open: the list's query runs only then.
        .annotate(has_open_opportunities=has_open_opportunities())
        # The household links, in this round trip too: household_of reads its relatives from them.
        .annotate(household_links=household_links())
        # And the identity documents, and the holdings with the customer's role on each.
        .annotate(identity_documents=_documents_column(), page_holdings=_holdings_column())
    )


_CUSTOMER = CompiledQuery(
    Customer,
    lambda customer_id, held, now: _with_page_columns(
        # `held` is a marker the held-ids subquery replaces at each run, not SQL from anyone.
        CustomerScope(user_id=0).customers(held=RawSQL("%s", (held,))),  # nosec B611
        now=now,
    ).filter(pk=customer_id),
    customer_id=_MARK_CUSTOMER,
    held=_MARK_HELD,
    now=_MARK_NOW,
)


def _page_customer(*, user: User, customer_id: Any) -> Customer:
    """The customer if the viewer may see them (else NotFound): compiled for a manager's own book."""
    scope = customer_scope(user=user)
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise NotFound("No such customer.") from None
    if scope.sees_all or scope.sees_none or scope.branch_id is not None or not 0 < pk < 2**63:
        try:
            return _with_page_columns(visible_customers(user=user)).get(pk=pk)
        except Customer.DoesNotExist:
            raise NotFound("No such customer.") from None
    found = _CUSTOMER.rows(customer_id=pk, held=scope.held_ids_sql, now=timezone.now())
    if not found:
        raise NotFound("No such customer.")
    return found[0]


def _role_label(role: str) -> str:
    """HoldingParty.get_role_display() for a role read without its party."""
    return force_str(_ROLE_LABELS.get(role, role), strings_only=True)


_ROLE_LABELS = dict(HoldingParty._meta.get_field("role").flatchoices)


def customer_360(*, user: User, customer_id: Any) -> Customer360:
    """Everything the customer page shows, in a fixed number of queries.

    PII stays encrypted (deferred) until someone with customers.reveal_pii asks for it;
    holdings the customer owns or holds jointly are grouped by category with totals per
    currency (active holdings only); holdings they are beneficiary or power of attorney of are
    listed apart and counted nowhere. Held / owed / net come from apps.accounts.positions. The
    household is the household/spouse relationships in either direction (a relative outside
    this user's book named only as such), and its totals count the relatives this user may
    see, a joint holding once. The customer's open opportunities come through the opportunities
    selector (one query, capped), asked only when the customer's query says some are open;
    four-eyes changes waiting on the customer likewise (apps.approvals.selectors).
    """
    customer = _page_customer(user=user, customer_id=customer_id)
    # The holdings came with the customer (its holdings column): no statement of their own.
    parties = _holdings_of(customer.page_holdings, using=customer._state.db)  # type: ignore[attr-defined]
    groups: dict[str, HoldingGroup] = {}
    other_holdings = []
    labels = dict(Holding.Category.choices)
    for role, holding in parties:
        holding.role = _role_label(role)  # type: ignore[attr-defined]  # shown beside the holding
        if not counts_toward_position(role):
            other_holdings.append(holding)
            continue
        group = groups.setdefault(
            holding.category,
            HoldingGroup(
                category=holding.category,
                label=labels.get(holding.category, holding.category),
                is_liability=holding.category in LIABILITY_CATEGORIES,
                holdings=[],
                totals=[],
            ),
        )
        group.holdings.append(holding)
    for group in groups.values():
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for holding in group.holdings:
            if holding.status == Holding.Status.ACTIVE:
                sums[holding.currency] += holding.balance
        group.totals = [Money(amount=sums[c], currency=c) for c in sorted(sums)]
    active = [
        (holding.category, holding.currency, holding.balance)
        for group in groups.values()
        for holding in group.holdings
        if holding.status == Holding.Status.ACTIVE
    ]
    chart = []
    for currency in sorted({c for _, c, _ in active}):
        by_category: dict[str, Decimal] = defaultdict(Decimal)
        for category, cur, amount in active:
            if cur == currency:
                by_category[category] += amount
        chart.append(
            {
                "currency": currency,
                "labels": [labels.get(c, c) for c in by_category],
                # Strings, not floats: the chart draws them, nothing adds them up.
                "values": [str(v) for v in by_category.values()],
            }
        )

    documents = _documents_of(customer.identity_documents, using=customer._state.db)  # type: ignore[attr-defined]  # the query's column
    # The links came with the customer (its household_links column): no query of their own.
    household = household_of(user=user, customer=customer, links=customer.household_links)  # type: ignore[attr-defined]
    # One query: the open ones, soonest close first, one more than shown to know there are more.
    opportunities = (
        list(open_opportunities_on(user=user, customer=customer)[: OPEN_LISTED + 1])
        if customer.has_open_opportunities  # type: ignore[attr-defined]  # the query's EXISTS column
        else []
    )
    # Read only when the customer query said some wait (nearly never): no query otherwise.
    waiting = customer.has_pending_changes  # type: ignore[attr-defined]  # the query's EXISTS column
    pending = pending_changes_for_customer(customer_id=customer.pk) if waiting else []

    return Customer360(
        customer=customer,
        holding_groups=list(groups.values()),
        # The holdings grouped above are the customer's counted ones: no second query (decision 113).
        positions=position_of_loaded(h for group in groups.values() for h in group.holdings),
        chart=chart,
        documents=documents,
        household=household,
        household_positions=household_position(customer=customer, household=household),
        other_holdings=other_holdings,
        can_reveal_pii=can_reveal_pii(user=user),
        opportunities=opportunities[:OPEN_LISTED],
        more_opportunities=len(opportunities) > OPEN_LISTED,
        pending_changes=pending,
    )
