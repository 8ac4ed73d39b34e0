"""The customer 360 page: one customer, their holdings, documents and household, in fixed queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from apps.accounts.positions import LIABILITY_CATEGORIES, CurrencyPosition, counts_toward_position, position_of
from apps.core.errors import NotFound
from apps.customers.book import OUTSIDE_BOOK, Book, current_book
from apps.customers.models import PII_FIELDS, Customer, CustomerRelationship, IdentityDocument
from apps.customers.visibility import can_reveal_pii, visible_customers

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
class HouseholdMember:
    """A relative; `customer` is None for one outside the viewer's book (shown as OUTSIDE_BOOK)."""

    customer: Customer | None
    relationships: list[str]

    @property
    def outside_book(self) -> bool:
        return self.customer is None

    @property
    def outside_book_label(self) -> str:
        return OUTSIDE_BOOK if self.customer is None else ""


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

    @property
    def household_outside_book(self) -> bool:
        """Some relative is outside the viewer's book: the household totals leave them out."""
        return any(member.outside_book for member in self.household)


def household_of(*, user: User, customer: Customer) -> list[HouseholdMember]:
    """The customer's household and spouse links in either direction (two or three queries).

    Relatives the user may see come first, by name; each relative outside the user's book is a
    member with no customer (no name, id, link or amounts: the page says OUTSIDE_BOOK), after
    them. Which is which is asked of the viewer's Book (apps/customers/book.py), never re-derived.
    """
    links = list(
        CustomerRelationship.objects.filter(
            Q(from_customer=customer) | Q(to_customer=customer), kind__in=CustomerRelationship.HOUSEHOLD_KINDS
        ).values_list("from_customer_id", "to_customer_id", "kind")
    )
    kind_labels = dict(CustomerRelationship.Kind.choices)
    relation_of: dict[int, list[str]] = defaultdict(list)
    for from_id, to_id, kind in links:
        other = to_id if from_id == customer.pk else from_id
        if kind_labels[kind] not in relation_of[other]:
            relation_of[other].append(kind_labels[kind])
    if not relation_of:
        return []
    book = current_book()
    if book is None or book.user != user:
        book = Book(user=user)
    seen = book.sees_ids(relation_of)
    relatives = (
        Customer.objects.filter(pk__in=seen)
        .only("id", "display_name", "external_id", "segment", "kind", "status")
        .order_by("display_name", "id")
        if seen
        else []
    )
    members = [HouseholdMember(customer=c, relationships=relation_of[c.pk]) for c in relatives]
    outside = sorted((relation_of[pk] for pk in relation_of if pk not in seen), key=lambda kinds: kinds)
    return members + [HouseholdMember(customer=None, relationships=kinds) for kinds in outside]


def household_position(*, customer: Customer, household: list[HouseholdMember]) -> list[CurrencyPosition]:
    """The household's held / owed / net over the relatives the viewer may see (a relative outside
    their book adds nothing); a holding two members own jointly counts once."""
    seen = [member.customer.pk for member in household if member.customer is not None]
    if not seen:
        return []
    return position_of([customer.pk, *seen])


def customer_360(*, user: User, customer_id: Any) -> Customer360:
    """Everything the customer page shows, in a fixed number of queries.

    PII stays encrypted (deferred) until someone with customers.reveal_pii asks for it;
    holdings the customer owns or holds jointly are grouped by category with totals per
    currency (active holdings only); holdings they are beneficiary or power of attorney of are
    listed apart and counted nowhere. Held / owed / net come from apps.accounts.positions. The
    household is the household/spouse relationships in either direction (a relative outside
    this user's book named only as such), and its totals count the relatives this user may
    see, a joint holding once.
    """
    from apps.accounts.models import Holding, HoldingParty

    try:
        customer = (
            visible_customers(user=user)
            .select_related("branch", "primary_manager")
            .defer(*PII_FIELDS)
            .get(pk=int(customer_id))
        )
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None

    parties = list(
        HoldingParty.objects.filter(customer=customer)
        .exclude(holding__status=Holding.Status.CLOSED)
        .select_related("holding", "holding__product")
        .defer("holding__number")
        .order_by("holding__category", "holding__opened_on", "holding_id")
    )
    groups: dict[str, HoldingGroup] = {}
    other_holdings = []
    labels = dict(Holding.Category.choices)
    for party in parties:
        holding = party.holding
        holding.role = party.get_role_display()  # type: ignore[attr-defined]  # shown beside the holding
        if not counts_toward_position(party.role):
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

    documents = list(customer.documents.defer("number").order_by("expiry_date", "id"))
    household = household_of(user=user, customer=customer)

    return Customer360(
        customer=customer,
        holding_groups=list(groups.values()),
        positions=position_of([customer.pk]),
        chart=chart,
        documents=documents,
        household=household,
        household_positions=household_position(customer=customer, household=household),
        other_holdings=other_holdings,
        can_reveal_pii=can_reveal_pii(user=user),
    )


def revealed_pii(*, customer: Customer, fields: list[str]) -> dict[str, Any]:
    """Decrypt the asked PII fields of one customer (the caller has recorded the reveal)."""
    fields = [f for f in PII_FIELDS if f in fields]
    if not fields:
        return {}
    row = Customer.objects.filter(pk=customer.pk).values(*fields).get()
    return {name: row[name] for name in fields}
