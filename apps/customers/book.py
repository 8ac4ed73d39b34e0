"""How a page names a customer it points to: by name if the viewer may see them, else not at all.

A page about one of my customers often points at another customer: a relative, a joint
holder, the customer a lead was converted into. Whether that other customer is in my book is
decided by the one visibility selector (visible_customers), asked once per request for the
ids the page names; a customer outside the book is rendered as OUTSIDE_BOOK, with no name,
no external id and no id or link.

Every surface uses this module: templates through `{% customer_name %}` /
`{% customer_link %}` (apps/customers/templatetags/book.py), the API through
`BookCustomerIdField` / `BookCustomerNameField`, and anything that calls `str(customer)`
during a request (admin lists, inlines, autocomplete, form choices) through
`Customer.__str__`, which asks `current_book()`. Outside a request (scans, imports, Celery)
there is no current book and a customer is named in full: those act for nobody. A job that
writes for one person (an email to a manager) builds `Book(user=recipient)` itself.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import F, Lookup
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers

from apps.core.compiled import CompiledQuery

if TYPE_CHECKING:
    from apps.customers.models import Customer
    from apps.identity.models import User

OUTSIDE_BOOK = "a customer outside your book"


class Book:
    """The viewer's book of customers, asked lazily and remembered for the request.

    `sees_ids` asks the selector only about ids it has not been asked about yet, so a page
    that primes the ids it will name runs one query however many it names.
    """

    def __init__(self, *, user: User | None = None, request: HttpRequest | None = None) -> None:
        self._user = user
        self._request = request
        self._known: dict[int, bool] = {}
        self._sees_all: bool | None = None

    @property
    def user(self) -> Any:
        # Read at first use: DRF authenticates inside the view, after the middleware ran.
        return self._user if self._user is not None else getattr(self._request, "user", None)

    def _everyone(self) -> bool:
        if self._sees_all is None:
            from apps.customers.visibility import customer_scope

            self._sees_all = customer_scope(user=self.user).sees_all
        return self._sees_all

    def sees_ids(self, ids: Iterable[Any]) -> set[int]:
        """Which of these customer ids the viewer may see (one query for the ids not yet known)."""
        wanted = {int(i) for i in ids if i is not None}
        if self._everyone():
            return wanted
        unknown = wanted - self._known.keys()
        if unknown:
            from apps.customers.visibility import visible_customers

            seen = set(visible_customers(user=self.user).filter(pk__in=unknown).values_list("pk", flat=True))
            self._known.update({pk: pk in seen for pk in unknown})
        return {pk for pk in wanted if self._known[pk]}

    def customers_among(
        self, ids: Iterable[Any], *, fields: tuple[str, ...], order_by: tuple[str, ...]
    ) -> list[Customer]:
        """The customers among these ids the viewer may see, loaded (`fields` only) in one query that
        also settles, for `sees_ids`, which of the ids are outside the book."""
        from apps.customers.visibility import customer_scope

        wanted = {int(i) for i in ids if i is not None}
        if not wanted:
            return []
        scope = customer_scope(user=self.user)
        if scope.sees_all or scope.sees_none or scope.branch_id is not None or not all(0 < pk < 2**63 for pk in wanted):
            found = list(scope.customers().filter(pk__in=wanted).only(*fields).order_by(*order_by))
        else:
            # A manager's own book: the same query, compiled once per process (decision 167).
            found = _among_query(fields, order_by).rows(ids=sorted(wanted), held=scope.held_ids_sql)
        seen = {customer.pk for customer in found}
        self._known.update({pk: pk in seen for pk in wanted})
        return found

    def sees(self, customer_id: Any) -> bool:
        return customer_id is not None and int(customer_id) in self.sees_ids([customer_id])

    def name(self, customer: Customer | None) -> str:
        """The customer's display name, or OUTSIDE_BOOK."""
        if customer is None:
            return ""
        return customer.display_name if self.sees(customer.pk) else OUTSIDE_BOOK

    def customer_id(self, customer_id: Any) -> int | None:
        """The id, or None for a customer outside the book (ids are not shown either)."""
        return int(customer_id) if self.sees(customer_id) else None


# A manager's customers among some ids, as customers_among reads them: one statement per (fields,
# order) compiled once per process (apps/core/compiled.py) with markers for the ids (one array
# parameter) and for the visibility rule's held-ids subquery, where each run splices the viewer's
# own held_ids_sql (decision 167, as the 360 page's customer, decision 160). Building and
# compiling the queryset was most of the household's CPU on each 360 page.
_MARK_IDS = [-20261210]
_MARK_HELD = -20261211


class _AnyOf(Lookup):
    """`id = ANY(ids)`: one array parameter, the same text for any number of ids (used as an
    expression in filter(), not registered on a field).

    The array is read through a scalar subquery, so a plan made with the values cannot see how
    many ids there are either: PostgreSQL's plan cache then finds its generic plan no dearer and
    keeps it, instead of planning the statement again at every run (decision 197)."""

    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(CAST((SELECT {rhs}::bigint[]) AS bigint[]))", (*lhs_params, *rhs_params)


_among: dict[tuple[tuple[str, ...], tuple[str, ...]], CompiledQuery[Customer]] = {}


def _among_query(fields: tuple[str, ...], order_by: tuple[str, ...]) -> CompiledQuery[Customer]:
    from apps.customers.models import Customer
    from apps.customers.visibility import CustomerScope

    query = _among.get((fields, order_by))
    if query is None:
        query = CompiledQuery(
            Customer,
            lambda ids, held: (
                # `held` and `ids` are markers each run replaces (the rule's own SQL; a parameter).
                CustomerScope(user_id=0)
                .customers(held=RawSQL("%s", (held,)))  # nosec B611
                # `id = ANY(ids)`, not `id IN (SELECT unnest(ids))`: on its generic plan PostgreSQL
                # then starts from these few ids; with the unnest it started from the viewer's
                # whole book and probed every customer in it (2.5 ms for a household of two).
                .filter(_AnyOf(F("pk"), ids))
                .only(*fields)
                .order_by(*order_by)
            ),
            ids=_MARK_IDS,
            held=_MARK_HELD,
        )
        query = _among.setdefault((fields, order_by), query)
    return query


def visible_pairs(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (user id, customer id) pairs are in that user's book: for jobs that write to
    several people at once (reminders), one selector query per person in the batch."""
    from django.contrib.auth import get_user_model

    wanted: dict[int, set[int]] = {}
    for user_id, customer_id in pairs:
        wanted.setdefault(user_id, set()).add(customer_id)
    users = get_user_model().objects.filter(pk__in=wanted).prefetch_related("groups")
    seen: set[tuple[int, int]] = set()
    for user in users:
        user.role_names = frozenset(group.name for group in user.groups.all())
        seen |= {(user.pk, customer_id) for customer_id in Book(user=user).sees_ids(wanted[user.pk])}
    return seen


_current: contextvars.ContextVar[Book | None] = contextvars.ContextVar("finpulse_book", default=None)


def current_book() -> Book | None:
    """The book of the request being served, or None outside a request."""
    return _current.get()


def book_for(request: HttpRequest) -> Book:
    """The request's book (the one BookMiddleware set), or a new one for this request."""
    book = getattr(request, "finpulse_book", None)
    if book is None:
        book = Book(request=request)
        request.finpulse_book = book  # type: ignore[attr-defined]
    return book


class BookMiddleware:
    """Make the viewer's book current for everything rendered while this request is served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(book_for(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


def _book_from(field: serializers.Field) -> Book:
    request = field.context.get("request")
    if request is None:
        raise RuntimeError(f"{type(field).__name__} needs the request in the serializer context.")
    return book_for(getattr(request, "_request", request))


class BookCustomerIdField(serializers.IntegerField):
    """A related customer's id, or null when the customer is outside the caller's book."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "Null when the customer is outside your book.")
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> int | None:
        pk = getattr(value, "pk", value)
        return _book_from(self).customer_id(pk)


class BookCustomerNameField(serializers.CharField):
    """A related customer's name, or "a customer outside your book"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", f'"{OUTSIDE_BOOK}" when the customer is outside your book.')
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return _book_from(self).name(value)
