"""Who may see which customer: every read of customers, or of anything under them, starts here."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.core import signing
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.lookups import Exact

from apps.accounts.positions import LIABILITY_CATEGORIES, CurrencyPosition, counts_toward_position, position_of
from apps.core.blind_index import blind_index
from apps.core.errors import DomainError, NotFound
from apps.customers.models import (
    PII_FIELDS,
    Customer,
    CustomerRelationship,
    CustomerUserObjectPermission,
    IdentityDocument,
    external_id_tail,
    external_id_tail_of,
)


def visible_customers(*, user: Any) -> QuerySet[Customer]:
    """Customers this user may see: the one rule, customer_scope, as a queryset.

    Administrators and compliance officers see every customer (compliance read-only, which
    the services enforce); a branch manager sees their branch and what is assigned to them; a
    relationship manager sees the customers they hold the view object permission on
    (granted by assignment). Anyone else, inactive or anonymous, sees nothing.
    """
    return customer_scope(user=user).customers()


def customer_for_user(*, user: Any, customer_id: Any) -> Customer:
    """One customer the user may see; missing and forbidden look alike (404)."""
    try:
        return visible_customers(user=user).select_related("branch", "primary_manager").get(pk=int(customer_id))
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None


def customers_by_pii(*, user: Any, kind: str, value: str) -> QuerySet[Customer]:
    """Exact lookup by national id, email or phone through the blind index."""
    index = blind_index(kind, value)
    if index is None:
        return Customer.objects.none()
    return visible_customers(user=user).filter(**{f"{kind}_index": index})


def managers_with_access(*, customer: Customer) -> QuerySet[CustomerUserObjectPermission]:
    return CustomerUserObjectPermission.objects.filter(content_object=customer).select_related("user", "permission")


# --- Manager workspace: customer list, search and the customer 360 page ---------------------
# Everything below starts from visible_customers and runs a fixed number of queries whatever
# the number of customers, holdings or relatives.

NAME_SEARCH_MIN_LENGTH = 3  # pg_trgm: one or two characters match nearly everything
SEARCH_RESULT_LIMIT = 50  # a name search shows the closest matches, best first
PAGE_SIZE = 50
MATURITY_WINDOW_DAYS = 30  # "has maturing products": an active holding matures within 30 days
KYC_DUE_WINDOW_DAYS = 30  # "KYC review due": review date within 30 days, or already overdue
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


class SearchKind:
    NONE = ""
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    IDENTIFIER = "identifier"  # national id or external id


def visible_scope(*, user: Any, field: str = "customer") -> Q:
    """A filter on `field` (a foreign key to Customer) for rows under customers the user may see.

    Empty for someone who sees every customer, so the query does not join a subquery over the
    whole customer table for nothing.
    """
    return customer_scope(user=user).rows(field)


@dataclass(frozen=True)
class CustomerScope:
    """Which customers a user may see: the one rule behind visible_customers and visible_scope.

    Nobody for an anonymous or inactive user; no filter at all for administrators and
    compliance officers; a branch manager's branch (a role filter, not per-object rows) plus
    what is assigned to them; anyone else, the customers they hold the view object
    permission on in guardian's direct foreign-key table (user permissions only: FinPulse
    grants no group object permissions and no global view permission to managers).

    Decided once, it can be put on several tables (the dashboard filters five sections by
    one scope). guardian's get_objects_for_user would wrap the direct table in two more
    lookups of the customer table (`id IN (SELECT id FROM customer WHERE id IN (SELECT ...
    WHERE content_object_id IN (SELECT id FROM customer)))`); here a manager's customers are
    one index range on the table's unique (user, permission, object) index, and the foreign
    key already guarantees every object id is a customer.
    """

    user_id: int | None = None
    sees_all: bool = False
    sees_none: bool = False
    branch_id: int | None = None  # a branch manager's branch: the role filter

    @cached_property
    def assigned_ids(self) -> QuerySet[CustomerUserObjectPermission]:
        """Ids of the customers the user holds the view permission on (a subquery, not a list).

        Built once per scope: each query that uses it resolves its own copy.
        """
        from django.contrib.contenttypes.models import ContentType

        # The permission is joined by codename, as guardian does, on purpose. PostgreSQL then
        # expects a handful of rows, so every section is driven from the manager's own
        # customers and costs what their book costs. With the permission id as a constant
        # (or a scalar subquery) it expects the average book and, for "latest interactions",
        # walks the bank-wide time index instead: measured on 100,000 customers, a manager
        # with three customers waited 110 ms for that section.
        return CustomerUserObjectPermission.objects.filter(
            user_id=self.user_id,
            permission__content_type=ContentType.objects.get_for_model(Customer),
            permission__codename="view_customer",
        ).values("content_object_id")

    def rows(self, field: str = "customer") -> Q:
        """A filter on `field` (a foreign key to Customer) for rows under the visible customers."""
        if self.sees_all:
            return Q()
        if self.sees_none:
            return Q(**{f"{field}_id__in": []})  # matches nothing; Django sends no query at all
        if self.branch_id is not None:
            return Q(**{f"{field}__in": self.customers().values("pk")})
        return Q(**{f"{field}_id__in": self.assigned_ids})

    def customers(self) -> QuerySet[Customer]:
        customers = Customer.objects.all()
        if self.sees_all:
            return customers
        if self.sees_none:
            return customers.none()
        if self.branch_id is not None:
            return customers.filter(Q(branch_id=self.branch_id) | Q(pk__in=self.assigned_ids))
        return customers.filter(pk__in=self.assigned_ids)


def customer_scope(*, user: Any) -> CustomerScope:
    """Who sees which customer, decided once per request (see CustomerScope); no query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return CustomerScope(sees_none=True)
    if user.sees_all_customers:
        return CustomerScope(user_id=user.pk, sees_all=True)
    branch_id = user.branch_id if user.is_branch_manager and user.branch_id else None
    return CustomerScope(user_id=user.pk, branch_id=branch_id)


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
    return Q(kyc_review_date__lte=today + dt.timedelta(days=KYC_DUE_WINDOW_DAYS)) | Q(
        kyc_status__in=[Customer.KycStatus.REVIEW_DUE, Customer.KycStatus.EXPIRED]
    )


def maturing_within_window(*, today: dt.date) -> Exists:
    from apps.accounts.models import Holding, HoldingParty

    return Exists(
        HoldingParty.objects.filter(
            customer_id=OuterRef("pk"),
            holding__status=Holding.Status.ACTIVE,
            holding__maturity_date__range=(today, today + dt.timedelta(days=MATURITY_WINDOW_DAYS)),
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
    "relevance": "Best match",
    "name": "Name",
    "updated": "Recently updated",
    "kyc": "KYC review date",
}


class InvalidCursor(DomainError):
    """A page link that was edited, or signed with another key."""


def encode_cursor(sort: str, customer: Customer) -> str:
    order = SORTS[sort]
    value = getattr(customer, order.column)
    raw = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
    return signing.dumps([sort, raw, customer.pk], salt=_CURSOR_SALT, compress=True)


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    try:
        cursor_sort, raw, pk = signing.loads(cursor, salt=_CURSOR_SALT)
        if cursor_sort != sort:
            raise ValueError(cursor_sort)
        return SORTS[sort].parse(raw), int(pk)
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise InvalidCursor("That page link is not valid any more; here is the first page.", field="cursor") from None


def _matching(*, user: Any, query: CustomerQuery) -> QuerySet[Customer]:
    """Visible customers matching the search term (blind index for PII, trigram for names)."""
    visible = visible_customers(user=user)
    term = query.term.strip()
    kind = query.search_kind
    if kind == SearchKind.NONE:
        return visible
    by_external_id = visible.filter(external_id_matches(term))
    if kind == SearchKind.EMAIL:
        return customers_by_pii(user=user, kind="email", value=term)
    if kind == SearchKind.PHONE:
        return (
            customers_by_pii(user=user, kind="phone", value=term)
            | customers_by_pii(user=user, kind="national_id", value=term)
            | by_external_id
        )
    if kind == SearchKind.IDENTIFIER:
        return customers_by_pii(user=user, kind="national_id", value=term) | by_external_id
    # One word of the name is enough ("Brewing" finds "Lowther Brewing Company Ltd"): the term
    # is word-similar to a part of the name (`term <% name`), or similar to the whole name (`%`).
    # Both operators use the customer_name_trgm GIN index; similarity() > x would not.
    return visible.filter(
        Q(display_name__trigram_word_similar=term) | Q(display_name__trigram_similar=term) | external_id_matches(term)
    )


def external_id_matches(term: str) -> Q:
    """External ids as managers type them: any case ("cb0001" finds CB00012345), or the number
    alone, without prefix or leading zeros ("12345" finds CB00012345). Each uses its index
    (customer_external_id_upper, customer_external_id_tail)."""
    condition = Q(external_id__istartswith=term)
    tail = external_id_tail_of(term)
    if tail:
        condition |= Q(Exact(external_id_tail("external_id"), Value(tail)))
    return condition


def filtered_customers(*, user: Any, query: CustomerQuery, today: dt.date | None = None) -> QuerySet[Customer]:
    """The customer list's rows before sorting and paging (also what the CSV export writes)."""
    from apps.core.business_date import business_today

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
    return customers


@dataclass
class CustomerPage:
    customers: list[Customer]
    sort: str
    next_cursor: str | None = None
    is_first_page: bool = True
    # A name search shows only its closest matches; the page says so.
    capped_at: int | None = None


def customer_list_page(
    *, user: Any, query: CustomerQuery, cursor: str = "", page_size: int = PAGE_SIZE
) -> CustomerPage:
    """One page of the customer list, keyset-paginated on (sort column, id).

    A name search sorted by best match returns the SEARCH_RESULT_LIMIT closest names
    (trigram similarity) and no further pages; every other order pages with a signed cursor.
    Raises InvalidCursor for a tampered or stale cursor.
    """
    from apps.accounts.models import Holding, HoldingParty
    from apps.core.business_date import business_today

    today = business_today()
    customers = (
        filtered_customers(user=user, query=query, today=today)
        .select_related("branch", "primary_manager")
        .only(*LIST_FIELDS)
    )
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
    sort = query.sort
    if sort == "relevance":
        if query.search_kind != SearchKind.NAME:
            sort = "name"
        else:
            rows = list(
                customers.annotate(
                    # Best first: the name holding the closest word, then the closest whole name.
                    word_similarity=TrigramWordSimilarity(query.term.strip(), "display_name"),
                    similarity=TrigramSimilarity("display_name", query.term.strip()),
                ).order_by("-word_similarity", "-similarity", "display_name", "id")[:SEARCH_RESULT_LIMIT]
            )
            capped = SEARCH_RESULT_LIMIT if len(rows) == SEARCH_RESULT_LIMIT else None
            return CustomerPage(customers=rows, sort=sort, capped_at=capped)
    order = SORTS.get(sort) or SORTS["name"]
    sort = sort if sort in SORTS else "name"
    if cursor:
        value, pk = decode_cursor(sort, cursor)
        customers = customers.filter(order.after(value, pk))
    rows = list(customers.order_by(*order.order_by())[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    return CustomerPage(
        customers=rows,
        sort=sort,
        next_cursor=encode_cursor(sort, rows[-1]) if has_more else None,
        is_first_page=not cursor,
    )


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
    customer: Customer
    relationships: list[str]


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


def can_reveal_pii(*, user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("customers.reveal_pii"))


def household_of(*, user: Any, customer: Customer) -> list[HouseholdMember]:
    """The customer's household and spouse links in either direction, restricted to relatives
    this user may see (two queries at most)."""
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
    relatives = (
        visible_customers(user=user)
        .filter(pk__in=list(relation_of))
        .only("id", "display_name", "external_id", "segment", "kind", "status")
        .order_by("display_name", "id")
    )
    return [HouseholdMember(customer=c, relationships=relation_of[c.pk]) for c in relatives]


def household_position(*, customer: Customer, household: list[HouseholdMember]) -> list[CurrencyPosition]:
    """The household's held / owed / net: a holding two members own jointly counts once."""
    if not household:
        return []
    return position_of([customer.pk, *(member.customer.pk for member in household)])


def customer_360(*, user: Any, customer_id: Any) -> Customer360:
    """Everything the customer page shows, in a fixed number of queries.

    PII stays encrypted (deferred) until someone with customers.reveal_pii asks for it;
    holdings the customer owns or holds jointly are grouped by category with totals per
    currency (active holdings only); holdings they are beneficiary or power of attorney of are
    listed apart and counted nowhere. Held / owed / net come from apps.accounts.positions. The
    household is the household/spouse relationships in either direction, restricted to
    relatives this user may see, and its totals count a joint holding once.
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
        holding.role = party.get_role_display()
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
