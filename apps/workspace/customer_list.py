"""The manager's customer list: search, filters, sort and keyset pages, from the visible customers.

Everything here starts from visible_customers and runs a fixed number of queries whatever the
number of customers; the CSV export writes the same rows (filtered_customers).
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.core import signing
from django.db import connections, router
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, JSONObject, TruncDate
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.positions import COUNTED_ROLES
from apps.core.blind_index import blind_index
from apps.core.business_date import business_today
from apps.core.compiled import CompiledQuery
from apps.core.errors import DomainError
from apps.core.plans import planned_with_values
from apps.core.windows import kyc_review_due_by, maturing_within, relationship_overdue
from apps.customers.models import Customer, external_id_tail, external_id_tail_of
from apps.customers.visibility import CustomerScope, customer_scope, visible_customers
from apps.identity.models import Branch
from apps.interactions.models import Interaction

if TYPE_CHECKING:
    from apps.identity.models import User

NAME_SEARCH_MIN_LENGTH = 3  # pg_trgm: one or two characters match nearly everything
SEARCH_RESULT_LIMIT = 50  # a name search shows the closest matches, best first
PAGE_SIZE = 50
_CURSOR_SALT = "customers.list.cursor"
_PHONE_LIKE = re.compile(r"\+?\d{6,15}")
# Only what the list shows: loading a whole Customer would decrypt five PII fields per row.
LIST_FIELDS = (
    "id",
    "kind",
    "display_name",
    "external_id",
    "segment",
    "status",
    "kyc_status",
    "kyc_review_date",
    "national_id_hint",
    "email_hint",
    "phone_hint",
    "updated_at",
    "branch__id",
    "branch__code",
    "branch__name",
    "primary_manager__id",
    "primary_manager__username",
    "primary_manager__first_name",
    "primary_manager__last_name",
)


class CustomerRow(NamedTuple):
    """One customer of a list page, as values: what a row shows and what its page's links need.

    The page reads these columns, never a model instance (no PII is loaded, so none is decrypted:
    lists show the stored masked hints), with the branch's and manager's names as values of the
    same row (decisions 135, 170)."""

    id: int
    display_name: str
    external_id: str
    segment: str
    kyc_status: str
    kyc_review_date: dt.date | None
    email_hint: str
    phone_hint: str
    updated_at: dt.datetime
    primary_manager_id: int | None
    branch_name: str | None
    manager_names: dict[str, str] | None  # username, first and last name (page_names)
    matching_total: int | None = None  # the first page's window count (decision 151)
    next_maturity: dt.date | None = None  # with the "maturing" filter: why the customer is listed

    @property
    def pk(self) -> int:
        return self.id


# The list page's own read: the customer's columns and the names, read as values (CustomerRow).
PAGE_FIELDS = CustomerRow._fields[: CustomerRow._fields.index("primary_manager_id") + 1]


def _customer_rows(names: list[str], fetched: Any) -> list[CustomerRow]:
    return [CustomerRow(**dict(zip(names, row, strict=True))) for row in fetched]


def page_names(*, joined: bool) -> dict[str, Any]:
    """The branch's name and the manager's names (a JSON object of username, first and last name).

    A page of the book read in keyset order sorts every matching customer: there each is a
    subquery of the row's own key, which PostgreSQL runs after the sort and the LIMIT, for the
    page's rows only, where joins read them for every customer of the book (decision 151). A name
    search reads only the names that match, and its joins cost less to build than subqueries."""
    names = {"username": "username", "first_name": "first_name", "last_name": "last_name"}
    if joined:
        manager = {key: F(f"primary_manager__{column}") for key, column in names.items()}
        return {"branch_name": F("branch__name"), "manager_names": JSONObject(**manager)}
    branch = Branch.objects.filter(pk=OuterRef("branch_id")).order_by().values("name")
    one = get_user_model().objects.filter(pk=OuterRef("primary_manager_id")).order_by()
    return {"branch_name": Subquery(branch), "manager_names": Subquery(one.values(names=JSONObject(**names)))}


class SearchKind:
    NONE = ""
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    IDENTIFIER = "identifier"  # national id or external id


def customers_by_pii(*, user: User, kind: str, value: str) -> QuerySet[Customer]:
    """Exact lookup by national id, email or phone through the blind index."""
    index = blind_index(kind, value)
    if index is None:
        return Customer.objects.none()
    return visible_customers(user=user).filter(**{f"{kind}_index": index})


def classify_search_term(term: str) -> str:
    """What a search box entry looks like: an email, a phone number, an id, or a name."""
    term = (term or "").strip()
    if not term:
        return SearchKind.NONE
    if "@" in term:
        return SearchKind.EMAIL
    if _PHONE_LIKE.fullmatch(re.sub(r"[\s\-().]", "", term)):
        return SearchKind.PHONE
    if any(ch.isdigit() for ch in term) and " " not in term:
        return SearchKind.IDENTIFIER
    return SearchKind.NAME


def is_pii_search(term: str) -> bool:
    """Email, phone and id terms are personal data: they are never echoed into logs or audit."""
    return classify_search_term(term) in (SearchKind.EMAIL, SearchKind.PHONE, SearchKind.IDENTIFIER)


def kyc_review_due(*, today: dt.date) -> Q:
    """The bank's rule for "KYC review due": flagged by compliance, or dated within the window."""
    return Q(kyc_review_date__lte=kyc_review_due_by(today=today)) | Q(
        kyc_status__in=[Customer.KycStatus.REVIEW_DUE, Customer.KycStatus.EXPIRED]
    )


def maturing_within_window(*, today: dt.date) -> Exists:
    return Exists(
        HoldingParty.objects.filter(
            customer_id=OuterRef("pk"),
            holding__status=Holding.Status.ACTIVE,
            holding__maturity_date__range=(today, maturing_within(today=today)),
        )
    )


@dataclass(frozen=True)
class CustomerQuery:
    """The customer list's search, filters and sort, as the form cleaned them."""

    term: str = ""
    segment: str = ""
    branch_id: int | None = None
    kyc_due: bool = False
    maturing: bool = False
    sort: str = "name"
    # Drill-down from the book report (apps/workspace/book_report.py): the customers behind a bar.
    holding_category: str = ""  # owns an active holding of this category ...
    currency: str = ""  # ... or in this currency (both: of this category in this currency)
    matures_from: dt.date | None = None  # owns an active holding maturing in this range
    matures_to: dt.date | None = None
    contact_overdue: bool = False  # overdue for contact by their segment's cadence
    manager_id: int | None = None  # whose primary manager this is (0: none)
    customer_ids: tuple[int, ...] = ()  # rows ticked on the list (export of the ticked rows)

    @property
    def is_drill_down(self) -> bool:
        return bool(
            self.holding_category
            or self.currency
            or self.matures_from
            or self.matures_to
            or self.contact_overdue
            or self.manager_id is not None
            or bool(self.customer_ids)
        )

    @property
    def search_kind(self) -> str:
        return classify_search_term(self.term)


@dataclass(frozen=True)
class SortOrder:
    column: str
    descending: bool = False
    nulls_last: bool = False

    def order_by(self) -> list[Any]:
        column = F(self.column).desc() if self.descending else F(self.column).asc(nulls_last=self.nulls_last or None)
        return [column, F("id").desc() if self.descending else F("id").asc()]

    def after(self, value: Any, pk: int) -> Q:
        """Rows that come after (value, pk) in this order: the keyset condition."""
        if value is None:  # only a nulls-last order can have a NULL key; the NULLs are last
            return Q(**{f"{self.column}__isnull": True, "id__gt": pk})
        beyond = "lt" if self.descending else "gt"
        condition = Q(**{f"{self.column}__{beyond}": value}) | Q(**{self.column: value, f"id__{beyond}": pk})
        if self.nulls_last:
            condition |= Q(**{f"{self.column}__isnull": True})
        return condition

    def before(self, value: Any, pk: int) -> Q:
        """Rows that come before (value, pk) in this order: the keyset condition of a previous page."""
        if value is None:  # a NULL key sits among the last rows: everything not NULL, then lower ids
            return Q(**{f"{self.column}__isnull": False}) | Q(**{f"{self.column}__isnull": True, "id__lt": pk})
        beyond = "gt" if self.descending else "lt"
        return Q(**{f"{self.column}__{beyond}": value}) | Q(**{self.column: value, f"id__{beyond}": pk})

    def reversed_order_by(self) -> list[Any]:
        """This order backwards (NULLs first where they were last), to read a previous page."""
        if self.descending:
            return [F(self.column).asc(nulls_last=True), F("id").asc()]
        return [F(self.column).desc(nulls_first=True), F("id").desc()]

    def parse(self, raw: Any) -> Any:
        if raw is None:
            return None
        if self.column == "updated_at":
            return dt.datetime.fromisoformat(raw)
        if self.column == "kyc_review_date":
            return dt.date.fromisoformat(raw)
        return str(raw)


SORTS: dict[str, SortOrder] = {
    "name": SortOrder("display_name"),
    "updated": SortOrder("updated_at", descending=True),
    "kyc": SortOrder("kyc_review_date", nulls_last=True),
}
SORT_LABELS = {
    "relevance": _("Best match"),
    "name": _("Name"),
    "updated": _("Recently updated"),
    "kyc": _("KYC review date"),
}


class InvalidCursor(DomainError):
    """A page link that was edited, or signed with another key."""


# A cursor's direction, as DRF's CursorPagination carries its `reverse` flag: the rows after the
# row it names (the next page) or before it (the previous page).
AFTER, BEFORE = "after", "before"


def encode_cursor(sort: str, customer: CustomerRow, *, direction: str = AFTER) -> str:
    order = SORTS[sort]
    value = getattr(customer, order.column)
    raw = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
    payload = [sort, raw, customer.pk] if direction == AFTER else [sort, raw, customer.pk, BEFORE]
    return signing.dumps(payload, salt=_CURSOR_SALT, compress=True)


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int, str]:
    """(the row's sort value, its id, AFTER or BEFORE); links made before pages went both ways read AFTER."""
    try:
        cursor_sort, raw, pk, *rest = signing.loads(cursor, salt=_CURSOR_SALT)
        direction = rest[0] if rest else AFTER
        if cursor_sort != sort or direction not in (AFTER, BEFORE) or len(rest) > 1:
            raise ValueError(cursor_sort)
        return SORTS[sort].parse(raw), int(pk), direction
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise InvalidCursor("That page link is not valid any more; here is the first page.", field="cursor") from None


def _matching(*, user: User, query: CustomerQuery) -> QuerySet[Customer]:
    """Visible customers matching the search term (blind index for PII, trigram for names)."""
    visible = visible_customers(user=user)
    term = query.term.strip()
    kind = query.search_kind
    if kind == SearchKind.NONE:
        return visible
    if kind == SearchKind.EMAIL:
        return customers_by_pii(user=user, kind="email", value=term)
    # The external id filter is built only by the kinds that use it alone; a name search writes its
    # own condition (decision 171).
    if kind == SearchKind.PHONE:
        return (
            customers_by_pii(user=user, kind="phone", value=term)
            | customers_by_pii(user=user, kind="national_id", value=term)
            | visible.filter(external_id_matches(term))
        )
    if kind == SearchKind.IDENTIFIER:
        return customers_by_pii(user=user, kind="national_id", value=term) | visible.filter(external_id_matches(term))
    # One word of the name is enough ("Brewing" finds "Lowther Brewing Company Ltd"): the term
    # is word-similar to a part of the name (`term <% name`), or similar to the whole name (`%`).
    # Both operators use the customer_name_trgm GIN index; similarity() > x would not.
    return visible.filter(name_matches(term))


def name_matches(term: str) -> Q:
    """A name search's condition: the term word-similar to a part of the name, similar to the whole
    name, or an external id as managers type it."""
    return (
        Q(display_name__trigram_word_similar=term) | Q(display_name__trigram_similar=term) | external_id_matches(term)
    )


def _best_matches(customers: QuerySet[Customer], *, term: str, names: list[str]) -> QuerySet[Customer, Any]:
    """A name search's rows, best first: the name holding the closest word, then the closest whole
    name (values_list of `names` and the branch's and manager's names, SEARCH_RESULT_LIMIT of them)."""
    best = customers.annotate(**page_names(joined=True)).annotate(
        word_similarity=TrigramWordSimilarity(term, "display_name"),
        similarity=TrigramSimilarity("display_name", term),
    )
    ordered = best.order_by("-word_similarity", "-similarity", "display_name", "id")
    return ordered.values_list(*names, "branch_name", "manager_names")[:SEARCH_RESULT_LIMIT]


def external_id_matches(term: str) -> Q:
    """External ids as managers type them: any case ("cb0001" finds CB00012345), or the number
    alone, without prefix or leading zeros ("12345" finds CB00012345). Each uses its index
    (customer_external_id_upper, customer_external_id_tail)."""
    condition = Q(external_id__istartswith=term)
    tail = external_id_tail_of(term)
    if tail:
        condition |= Q(Exact(external_id_tail("external_id"), Value(tail)))
    return condition


def filtered_customers(*, user: User, query: CustomerQuery, today: dt.date | None = None) -> QuerySet[Customer]:
    """The customer list's rows before sorting and paging (also what the CSV export writes)."""
    if query.search_kind == SearchKind.NAME and len(query.term.strip()) < NAME_SEARCH_MIN_LENGTH:
        raise DomainError(
            f"Type at least {NAME_SEARCH_MIN_LENGTH} characters to search by name.", field="q"
        )  # the form says so first; this guards other callers
    today = today or business_today()
    customers = _matching(user=user, query=query)
    if query.segment:
        customers = customers.filter(segment=query.segment)
    if query.branch_id:
        customers = customers.filter(branch_id=query.branch_id)
    if query.kyc_due:
        customers = customers.filter(kyc_review_due(today=today))
    if query.maturing:
        customers = customers.filter(maturing_within_window(today=today))
    return _drill_down(customers, query=query, today=today)


def owns_holding(
    *, category: str = "", currency: str = "", matures_from: dt.date | None = None, matures_to: dt.date | None = None
) -> Exists:
    """Customers who own (owner or joint: apps.accounts.positions) an active holding of this
    category, currency and maturity range: the customers behind a bar of the book report."""
    holdings = Q(customer_id=OuterRef("pk"), role__in=COUNTED_ROLES, holding__status=Holding.Status.ACTIVE)
    if category:
        holdings &= Q(holding__category=category)
    if currency:
        holdings &= Q(holding__currency=currency)
    if matures_from:
        holdings &= Q(holding__maturity_date__gte=matures_from)
    if matures_to:
        holdings &= Q(holding__maturity_date__lte=matures_to)
    return Exists(HoldingParty.objects.filter(holdings))


def _drill_down(customers: QuerySet[Customer], *, query: CustomerQuery, today: dt.date) -> QuerySet[Customer]:
    if query.holding_category or query.currency or query.matures_from or query.matures_to:
        customers = customers.filter(
            owns_holding(
                category=query.holding_category,
                currency=query.currency,
                matures_from=query.matures_from,
                matures_to=query.matures_to,
            )
        )
    if query.customer_ids:
        customers = customers.filter(pk__in=query.customer_ids)
    if query.manager_id is not None:
        customers = customers.filter(primary_manager_id=query.manager_id or None)
    if query.contact_overdue:
        customers = customers.filter(pk__in=contact_overdue_ids(today=today)).filter(status=Customer.Status.ACTIVE)
    return customers


def with_contact_dates(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers with `last_contact` (the date of their latest interaction, in the bank's time
    zone) and `since` (the date they became customers): what the cadence rule reads."""
    zone = timezone.get_current_timezone()
    latest = Interaction.objects.filter(customer_id=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    return customers.annotate(
        last_contact=TruncDate(Subquery(latest), tzinfo=zone),
        since=Coalesce(F("customer_since"), TruncDate(F("created_at"), tzinfo=zone)),
    )


def contact_overdue(*, today: dt.date) -> Q:
    """On with_contact_dates: overdue for contact by the segment's cadence (apps.core.windows)."""
    return relationship_overdue(today=today, last_contact="last_contact", since="since")


def contact_overdue_ids(*, today: dt.date) -> QuerySet[Customer, Any]:  # Any: rows of a values() subquery
    """Ids of customers overdue for contact: the rule the book report counts with, so the list
    shows the customers behind its bar."""
    return with_contact_dates(Customer.objects.all()).filter(contact_overdue(today=today)).values("pk")


@dataclass
class CustomerPage:
    customers: list[CustomerRow]
    sort: str
    next_cursor: str | None = None
    previous_cursor: str | None = None  # None on the first page
    is_first_page: bool = True
    # A name search shows only its closest matches; the page says so.
    capped_at: int | None = None
    total: int = 0  # every customer matching the search and filters, on all pages


def _reads_whole_book(user: User) -> bool:
    """Whether a page of this viewer's customers is read from the whole of their book: a manager's
    own customers or a branch's are found by id, then sorted. Someone who sees every customer
    reads a page from an index in its order and stops at the LIMIT; a count over the page's read
    would make it read the whole bank."""
    return not customer_scope(user=user).sees_all


def customer_list_page(
    *, user: User, query: CustomerQuery, cursor: str = "", page_size: int = PAGE_SIZE
) -> CustomerPage:
    """One page of the customer list (see _customer_list_page). Over the whole bank its statements
    are planned with their values: a generic plan made the overdue drill-down 14 % dearer (decision 142)."""
    wide = customer_scope(user=user).sees_all
    with planned_with_values() if wide else nullcontext():
        return _customer_list_page(user=user, query=query, cursor=cursor, page_size=page_size)


def _customer_list_page(*, user: User, query: CustomerQuery, cursor: str, page_size: int) -> CustomerPage:
    """One page of the customer list, keyset-paginated on (sort column, id).

    A name search sorted by best match returns the SEARCH_RESULT_LIMIT closest names
    (trigram similarity) and no further pages; every other order pages with a signed cursor
    that goes either way (next: the rows after the page's last row; previous: the rows before
    its first row, read backwards and put back in order).
    Raises InvalidCursor for a tampered or stale cursor.
    """
    if not cursor and _is_plain_book_page(user, query):
        return _plain_book_page(user=user, sort=query.sort, page_size=page_size)
    if not cursor and _is_plain_name_search(user, query):
        return _plain_name_search(user=user, term=query.term.strip())
    today = business_today()
    matching = filtered_customers(user=user, query=query, today=today)
    customers = matching
    names = list(PAGE_FIELDS)
    if query.maturing:
        # Say why the customer is on the list: their next maturity in the window.
        customers = customers.annotate(
            next_maturity=Subquery(
                HoldingParty.objects.filter(
                    customer_id=OuterRef("pk"),
                    holding__status=Holding.Status.ACTIVE,
                    holding__maturity_date__gte=today,
                )
                .order_by("holding__maturity_date")
                .values("holding__maturity_date")[:1]
            )
        )
        names.append("next_maturity")
    sort = query.sort
    if sort == "relevance":
        if query.search_kind != SearchKind.NAME:
            sort = "name"
        else:
            shown = [*names, "branch_name", "manager_names"]
            found = _customer_rows(shown, _best_matches(customers, term=query.term.strip(), names=names))
            return _search_page(found)
    order = SORTS.get(sort) or SORTS["name"]
    sort = sort if sort in SORTS else "name"
    direction = AFTER
    page_rows = customers.annotate(**page_names(joined=False))
    names += ["branch_name", "manager_names"]
    if cursor:
        value, pk, direction = decode_cursor(sort, cursor)
        page_rows = page_rows.filter(order.before(value, pk) if direction == BEFORE else order.after(value, pk))
    counted = not cursor and _reads_whole_book(user)
    if counted:
        # The first page's read sorts every matching customer of the book anyway: it counts them
        # too, instead of a COUNT that reads them again (decision 151).
        page_rows = page_rows.annotate(matching_total=Window(Count("pk")))
        names.append("matching_total")
    if direction == BEFORE:
        # Read backwards from the row, then put the page back in order.
        backwards = page_rows.order_by(*order.reversed_order_by()).values_list(*names)
        rows = _customer_rows(names, backwards[: page_size + 1])
        has_earlier, has_later = len(rows) > page_size, True
        rows = rows[:page_size][::-1]
    else:
        rows = _customer_rows(names, page_rows.order_by(*order.order_by()).values_list(*names)[: page_size + 1])
        has_earlier, has_later = bool(cursor), len(rows) > page_size
        rows = rows[:page_size]
    if counted:
        total = (rows[0].matching_total or 0) if rows else 0
    else:
        # Counted without the names (a count needs no branch or manager).
        total = len(rows) if not (cursor or has_later) else matching.order_by().count()
    return _page(rows, sort=sort, has_earlier=has_earlier, has_later=has_later, total=total)


def _page(rows: list[CustomerRow], *, sort: str, has_earlier: bool, has_later: bool, total: int) -> CustomerPage:
    return CustomerPage(
        customers=rows,
        sort=sort,
        next_cursor=encode_cursor(sort, rows[-1]) if has_later and rows else None,
        previous_cursor=encode_cursor(sort, rows[0], direction=BEFORE) if has_earlier and rows else None,
        is_first_page=not has_earlier,
        total=total,
    )


# --- a manager's first page of their own book, compiled once per process (decision 170) ------------

_MARK_HELD = -20261210


def _is_plain_book_page(user: User, query: CustomerQuery) -> bool:
    """Whether this is the first page of a relationship manager's own book with no search and no
    filter (the list as it opens): its statement is the same text for every manager."""
    scope = customer_scope(user=user)
    return (
        not (scope.sees_all or scope.sees_none or scope.branch_id is not None)
        and query.sort in SORTS
        and query == CustomerQuery(sort=query.sort)
    )


def _book_page_query(held: int, *, sort: str, size: int) -> QuerySet[Customer, Any]:  # Any: values_list rows
    """The ORM's own first page of a book (as _customer_list_page writes it for the same query),
    with `held` a marker where the viewer's held-ids subquery goes."""
    # `held` is a marker the held-ids subquery replaces at each run, not SQL from anyone.
    customers = CustomerScope(user_id=0).customers(held=RawSQL("%s", (held,)))  # nosec B611
    return (
        customers.annotate(**page_names(joined=False))
        .annotate(matching_total=Window(Count("pk")))
        .order_by(*SORTS[sort].order_by())
        .values_list(*PAGE_FIELDS, "branch_name", "manager_names", "matching_total")[: size + 1]
    )


_BOOK_PAGES: dict[tuple[str, int], CompiledQuery[Customer]] = {}


def _plain_book_page(*, user: User, sort: str, page_size: int) -> CustomerPage:
    """The first page of a manager's own book, by a statement compiled once per process for each
    sort and page size, the viewer's own held_ids_sql (visibility) spliced in where the marker was."""
    compiled = _BOOK_PAGES.get((sort, page_size))
    if compiled is None:
        compiled = CompiledQuery(
            Customer, lambda held: _book_page_query(held, sort=sort, size=page_size), held=_MARK_HELD
        )
        _BOOK_PAGES[(sort, page_size)] = compiled
    names, fetched = compiled.values(held=customer_scope(user=user).held_ids_sql)
    rows = _customer_rows(names, fetched)
    has_later = len(rows) > page_size
    rows = rows[:page_size]
    total = (rows[0].matching_total or 0) if rows else 0
    return _page(rows, sort=sort, has_earlier=False, has_later=has_later, total=total)


# --- a manager's name search in their own book, compiled once per process (decision 178) -------------

_MARK_TERM = "zzfinpulsetermmarker"


def _search_page(found: list[CustomerRow]) -> CustomerPage:
    capped = SEARCH_RESULT_LIMIT if len(found) == SEARCH_RESULT_LIMIT else None
    return CustomerPage(customers=found, sort="relevance", capped_at=capped, total=len(found))


def _is_plain_name_search(user: User, query: CustomerQuery) -> bool:
    """Whether this is a relationship manager's name search, best match first, with no filter:
    its statement is the same text for every manager and term (a name term is never all digits,
    so external_id_matches adds no tail condition)."""
    scope = customer_scope(user=user)
    term = query.term.strip()
    return (
        not (scope.sees_all or scope.sees_none or scope.branch_id is not None)
        and query == CustomerQuery(term=query.term, sort="relevance")
        and query.search_kind == SearchKind.NAME
        and len(term) >= NAME_SEARCH_MIN_LENGTH
        and external_id_tail_of(term) is None
    )


def _name_search_query(held: int, term: str) -> QuerySet[Customer, Any]:  # Any: values_list rows
    """The ORM's own name search of a book (as _customer_list_page writes it for the same query),
    with `held` a marker where the viewer's held-ids subquery goes and `term` one where the term goes."""
    # `held` is a marker the held-ids subquery replaces at each run, not SQL from anyone.
    customers = CustomerScope(user_id=0).customers(held=RawSQL("%s", (held,)))  # nosec B611
    return _best_matches(customers.filter(name_matches(term)), term=term, names=list(PAGE_FIELDS))


def _like_prefix(term: str) -> str:
    """The pattern Django's istartswith sends for `term` (external_id_matches): proven against the
    compiled statement by CompiledQuery before it is used."""
    return connections[router.db_for_read(Customer)].ops.prep_for_like_query(term) + "%"


_NAME_SEARCH = CompiledQuery(Customer, _name_search_query, held=_MARK_HELD, term=_MARK_TERM).deriving(
    like=("term", _like_prefix)
)


def _plain_name_search(*, user: User, term: str) -> CustomerPage:
    """A manager's name search by a statement compiled once per process, the viewer's own
    held_ids_sql (visibility) spliced in and the term put at each place it goes."""
    names, fetched = _NAME_SEARCH.values(held=customer_scope(user=user).held_ids_sql, term=term)
    return _search_page(_customer_rows(names, fetched))
