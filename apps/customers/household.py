"""A customer's household: relatives by household and spouse links, as the viewer's book allows.

The 360 page, its household totals (apps.accounts.positions.household_position) and the
customer API's position read it; which relative is inside the viewer's book is asked of the
Book (apps/customers/book.py), never re-derived.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, Func, JSONField, OuterRef, Q

from apps.core.compiled import CompiledQuery
from apps.customers.book import OUTSIDE_BOOK, Book, current_book
from apps.customers.models import Customer, CustomerRelationship

if TYPE_CHECKING:
    from apps.identity.models import User


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


# The customer's household and spouse links in either direction: the same text for every customer,
# compiled once per process (apps/core/compiled.py, decision 131); `a` and `b` are its id twice.
_LINKS = CompiledQuery(
    CustomerRelationship,
    lambda a, b: CustomerRelationship.objects.filter(
        Q(from_customer_id=a) | Q(to_customer_id=b), kind__in=CustomerRelationship.HOUSEHOLD_KINDS
    ).only("from_customer_id", "to_customer_id", "kind"),
    a=-20261207,
    b=-20261208,
)


def household_links() -> ArraySubquery:
    """The household and spouse links of the outer query's customer, in either direction, as a
    column: an array of [from id, to id, kind], oldest link first. The 360 page reads them with
    its customer, in the same round trip (decision 183); `household_of(links=)` takes them."""
    return ArraySubquery(
        CustomerRelationship.objects.filter(
            Q(from_customer_id=OuterRef("pk")) | Q(to_customer_id=OuterRef("pk")),
            kind__in=CustomerRelationship.HOUSEHOLD_KINDS,
        )
        .order_by("pk")
        .values_list(
            Func(
                F("from_customer_id"),
                F("to_customer_id"),
                F("kind"),
                function="jsonb_build_array",
                output_field=JSONField(),
            )
        )
    )


def household_of(
    *, user: User, customer: Customer, links: Sequence[Sequence[Any]] | None = None
) -> list[HouseholdMember]:
    """The customer's household and spouse links in either direction (one query, two with relatives;
    one fewer with `links`, the customer's `household_links()` column read with it).

    Relatives the user may see come first, by name; each relative outside the user's book is a
    member with no customer (no name, id, link or amounts: the page says OUTSIDE_BOOK), after
    them. Which is which is asked of the viewer's Book (apps/customers/book.py), never re-derived.
    """
    pairs = (
        [(link.from_customer_id, link.to_customer_id, link.kind) for link in _LINKS.rows(a=customer.pk, b=customer.pk)]
        if links is None
        else [(int(from_id), int(to_id), str(kind)) for from_id, to_id, kind in links]
    )
    kind_labels = dict(CustomerRelationship.Kind.choices)
    relation_of: dict[int, list[str]] = defaultdict(list)
    for from_id, to_id, kind in pairs:
        other = to_id if from_id == customer.pk else from_id
        if kind_labels[kind] not in relation_of[other]:
            relation_of[other].append(kind_labels[kind])
    if not relation_of:
        return []
    book = current_book()
    if book is None or book.user != user:
        book = Book(user=user)
    # One query: the relatives the book holds, loaded; the others are outside it (decision 113).
    relatives = book.customers_among(
        relation_of,
        fields=("id", "display_name", "external_id", "segment", "kind", "status"),
        order_by=("display_name", "id"),
    )
    seen = {relative.pk for relative in relatives}
    members = [HouseholdMember(customer=c, relationships=relation_of[c.pk]) for c in relatives]
    outside = sorted((relation_of[pk] for pk in relation_of if pk not in seen), key=lambda kinds: kinds)
    return members + [HouseholdMember(customer=None, relationships=kinds) for kinds in outside]
