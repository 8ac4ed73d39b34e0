"""Who sees a customer, who may change one, who may reveal their personal data: the one home.

Every read of customers, or of anything under them (holdings, tasks, interactions, advice),
starts from `customer_scope`; every write checks `may_edit_customers` (services through
`ensure_can_edit`); every surface that shows personal data in clear asks `can_reveal_pii`;
every list of people who can be given customers, tasks or leads starts from `active_managers`.
Roles are identity's (groups filled from the SSO claims); what they mean for customers is here.
`may_edit_customers` is the one role rule written in apps/identity/roles.py, because the API
platform (a layer below customers) asks it for an API key's write scopes; import it from here.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.core.errors import NotFound, PermissionDenied
from apps.customers.models import BreakGlassGrant, Customer, CustomerUserObjectPermission
from apps.identity import roles
from apps.identity.roles import may_edit_customers

if TYPE_CHECKING:
    from apps.identity.models import User

MANAGER_ROLES = (roles.RELATIONSHIP_MANAGER, roles.BRANCH_MANAGER)


# --- roles: what each may do with customers --------------------------------------------------


def _signed_in(user: User) -> bool:  # Any: AnonymousUser as well as User
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def sees_every_customer(user: User) -> bool:
    """Administrators and compliance officers see every customer (compliance read-only)."""
    return _signed_in(user) and (user.is_administrator or user.is_compliance_officer)


def ensure_can_edit(actor: User | None) -> None:
    """Services call this first; the system (None: scans, imports, the relay) may write."""
    if actor is not None and not may_edit_customers(actor):
        raise PermissionDenied("Your role may read customers but not change them.")


def may_assign_customers(user: User) -> bool:
    """Who may move customers between managers (the service enforces the branch rule)."""
    return may_edit_customers(user) and (user.is_administrator or user.is_branch_manager)


def can_manage_portfolios(user: User) -> bool:
    """The portfolio pages: administrators, and branch managers who have a branch."""
    return may_edit_customers(user) and (
        user.is_administrator or (user.is_branch_manager and user.branch_id is not None)
    )


def can_reveal_pii(*, user: User) -> bool:
    """Who may see a customer's personal data in clear (always audited by the caller)."""
    return _signed_in(user) and user.has_perm("customers.reveal_pii")


def active_managers() -> QuerySet[User]:
    """Everyone who can hold customers, tasks and leads: active relationship and branch managers.

    Compliance officers are never among them, whatever other role they hold (they do not edit).
    """
    users = get_user_model().objects.filter(is_active=True)
    holds = Exists(Group.objects.filter(user=OuterRef("pk"), name__in=MANAGER_ROLES))
    compliance = Exists(Group.objects.filter(user=OuterRef("pk"), name=roles.COMPLIANCE_OFFICER))
    return users.filter(holds).exclude(compliance)


def assignable_managers(*, actor: User) -> QuerySet[User]:
    """Managers `actor` may give customers to: any for an administrator, their branch's for a branch manager."""
    managers = active_managers().order_by("last_name", "first_name", "username")
    if not actor.is_administrator and actor.is_branch_manager:
        managers = _of_branch(managers, actor.branch_id)
    return managers


def _of_branch(users: QuerySet[User], branch_id: int | None) -> QuerySet[User]:
    return users.filter(branch_id=branch_id) if branch_id is not None else users.filter(branch__isnull=True)


def portfolio_managers(*, user: User) -> QuerySet[User]:
    """Active managers whose portfolios `user` may manage, with their customer counts.

    Administrators see every manager; a branch manager sees the managers of their branch;
    anyone else sees none.
    """
    if not can_manage_portfolios(user):
        return get_user_model().objects.none()
    managers = active_managers()
    if not user.is_administrator:
        managers = _of_branch(managers, user.branch_id)
    return (
        managers.select_related("branch")
        .annotate(customer_count=Count("primary_customers", filter=Q(primary_customers__isnull=False)))
        .order_by("last_name", "first_name", "username")
    )


def users_who_see(*, customer: Customer) -> QuerySet[User]:
    """The reverse of customer_scope for one customer: every active user who may open it.

    Administrators and compliance officers, the branch managers of its branch, whoever holds
    the view permission on it (its primary manager and anyone granted access), and whoever
    holds a break-glass grant on it in force now.
    """
    now = timezone.now()
    granted = CustomerUserObjectPermission.objects.filter(
        content_object_id=customer.pk, permission__codename="view_customer"
    ).values("user_id")
    break_glass = BreakGlassGrant.objects.filter(customer=customer, starts_at__lte=now, expires_at__gt=now).values(
        "user_id"
    )
    group = Group.objects.filter(user=OuterRef("pk"))
    sees = (
        Q(is_superuser=True)
        | Q(Exists(group.filter(name__in=[roles.ADMINISTRATOR, roles.COMPLIANCE_OFFICER])))
        | Q(pk__in=granted)
        | Q(pk__in=break_glass)
    )
    if customer.branch_id is not None:
        sees |= Q(Exists(group.filter(name=roles.BRANCH_MANAGER)), branch_id=customer.branch_id)
    return get_user_model().objects.filter(sees, is_active=True)


def may_hold_work_on(*, customer: Customer) -> QuerySet[User]:
    """Who may be given a task on this customer: active managers who can open it."""
    return active_managers().filter(pk__in=users_who_see(customer=customer).values("pk"))


# --- the scope: which customers a user sees ---------------------------------------------------


@dataclass(frozen=True)
class CustomerScope:
    """Which customers a user may see: the one rule behind visible_customers and visible_scope.

    Nobody for an anonymous or inactive user; no filter at all for administrators and
    compliance officers; a branch manager's branch (a role filter, not per-object rows) plus
    what is assigned to them; anyone else, the customers they hold the view object
    permission on in guardian's direct foreign-key table (user permissions only: FinPulse
    grants no group object permissions and no global view permission to managers). Managers
    also see a customer they hold a break-glass grant on, while it is in force (granted_ids).

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
    def assigned_ids(self) -> QuerySet[CustomerUserObjectPermission, Any]:  # Any: rows of a values() subquery
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
            user_id=self.user_id or 0,  # only asked for a scope with a user
            permission__content_type=ContentType.objects.get_for_model(Customer),
            permission__codename="view_customer",
        ).values("content_object_id")

    @cached_property
    def granted_ids(self) -> QuerySet[BreakGlassGrant, Any]:  # Any: rows of a values() subquery
        """Ids of the customers opened to the user by a break-glass grant in force now.

        Approved by a second person for a stated reason, for FINPULSE_BREAK_GLASS_HOURS
        (apps/break_glass); once `expires_at` has passed the customer is outside the book again,
        with nothing to revoke.
        """
        return self._granted_ids_at(timezone.now())

    def _granted_ids_at(self, now: dt.datetime) -> QuerySet[BreakGlassGrant, Any]:  # Any: as granted_ids
        return (
            BreakGlassGrant.objects.filter(user_id=self.user_id or 0, starts_at__lte=now, expires_at__gt=now)
            .order_by()
            .values("customer_id")
        )

    @cached_property
    def held_ids(self) -> QuerySet[CustomerUserObjectPermission, Any]:  # Any: rows of a values() subquery
        """The user's own customers: assigned (object permission) or opened by break-glass.

        One UNION ALL subquery, so each query still starts from the manager's few rows (see
        assigned_ids) and the grant table adds an index range that is empty for nearly everyone.
        """
        return self._held_ids_at(timezone.now())

    def _held_ids_at(self, now: dt.datetime) -> QuerySet[CustomerUserObjectPermission, Any]:  # Any: as held_ids
        return self.assigned_ids.union(self._granted_ids_at(now), all=True)

    @cached_property
    def held_ids_sql(self) -> RawSQL:
        """held_ids as SQL compiled once per process, with this scope's user and instant as parameters.

        Resolving and compiling the UNION subquery was about 1 ms of web CPU each time a page put
        the scope on a query (the 360 page does three times); the text is the same for every user
        (decision 114). The ORM compiles it once, from held_ids itself, with marker values in
        place of the user and the instant, which are then swapped for this scope's.
        """
        sql, template = _held_ids_template()
        now = timezone.now()
        user_id = self.user_id or 0
        params = tuple(user_id if p == _MARK_USER else now if p == _MARK_NOW else p for p in template)
        # The text is the ORM's own compilation; every value travels as a parameter.
        return RawSQL(sql, params)  # noqa: S611  # nosec B611

    def rows(self, field: str = "customer", *, held: RawSQL | None = None) -> Q:
        """A filter on `field` (a foreign key to Customer) for rows under the visible customers;
        `held` stands for a manager's held_ids_sql in a statement compiled once per process, as in
        customers() (apps/tasks/selectors.py, decision 177)."""
        if self.sees_all:
            return Q()
        if self.sees_none:
            return Q(**{f"{field}_id__in": []})  # matches nothing; Django sends no query at all
        # A manager's own customers: the compiled subquery (held_ids_sql); a branch, the ORM's.
        if self.branch_id is None:
            return Q(**{f"{field}_id__in": self.held_ids_sql if held is None else held})
        return Q(**{f"{field}_id__in": self.row_ids()})

    def row_ids(self) -> QuerySet[Any, Any]:
        """The customer ids `rows()` filters by, as a subquery (for someone who sees some, not all).

        A statement written in SQL (the dashboard's one round trip) embeds its compiled form, so
        the rule stays here.
        """
        if self.sees_all or self.sees_none:
            raise ValueError("Only a scope that sees some customers filters by ids.")
        if self.branch_id is not None:
            return self.customers().values("pk")
        return self.held_ids

    def customers(self, *, held: RawSQL | None = None, in_id_order: bool = False) -> QuerySet[Customer]:
        """The customers this scope sees; `held` stands for a manager's held_ids_sql in a statement
        compiled once per process, which puts this scope's own held_ids_sql there at each run
        (apps/workspace/customer_360.py): the rule stays written here. `in_id_order`: the same
        customers, for a read in id order that stops at a page's end (_in_id_order)."""
        customers = Customer.objects.all()
        if self.sees_all:
            return customers
        if self.sees_none:
            return customers.none()
        # A restricted customer (GDPR Art. 18, apps/privacy) is kept but shown to nobody who
        # does not see every customer: its managers lose it, its branch no longer lists it.
        customers = customers.filter(restricted_at__isnull=True)
        ids: Any  # a subquery: the ORM's union, or the compiled held ids (RawSQL)
        if self.branch_id is not None:
            # One id list (the branch's index range, then the held ids), not "branch OR held": an
            # OR across two sources reads the whole customer table (decision 140).
            branch = Customer.objects.filter(branch_id=self.branch_id).order_by().values("pk")
            ids = branch.union(self.assigned_ids, self.granted_ids, all=True)
        else:
            ids = self.held_ids_sql if held is None else held
        return customers.filter(pk__in=_in_id_order(ids) if in_id_order else ids)


def _in_id_order(ids: QuerySet[Any, Any] | RawSQL) -> RawSQL:
    """The same ids as a subquery that is sorted and distinct (decision 195).

    PostgreSQL expects a book to be a handful of rows (assigned_ids says why), so `id IN (ids)`
    is read as a semi-join: every customer of the book by key, then sorted, for a page of 25 in id
    order (the API's). With the ids distinct and sorted first, it joins them in that order and
    stops at the page's end: 26 customers read instead of a book's 500 (1.5 ms -> 0.2 ms).
    """
    sql, params = (ids.sql, ids.params) if isinstance(ids, RawSQL) else ids.query.sql_with_params()
    # The text is the ORM's own compilation of the rule's subquery; every value travels as a parameter.
    ordered = f"SELECT DISTINCT ids.id FROM ({sql}) ids(id) ORDER BY 1"  # noqa: S608  # nosec B608
    return RawSQL(ordered, tuple(params))  # noqa: S611  # nosec B611


# Marker values no real scope has (a user id below zero, an instant in 1901): the compiled
# held_ids keeps each where the query puts that value, whatever the order Django emits them in.
_MARK_USER = -7_070_707
_MARK_NOW = dt.datetime(1901, 1, 1, 0, 0, 7, tzinfo=dt.UTC)
_held_sql: dict[int, tuple[str, tuple[Any, ...]]] = {}
_held_sql_lock = threading.Lock()


def _held_ids_template() -> tuple[str, tuple[Any, ...]]:
    from django.contrib.contenttypes.models import ContentType

    # The customer content type's id is a parameter too; keyed by it, a database whose content
    # types were recreated (a test flush) compiles afresh.
    key = ContentType.objects.get_for_model(Customer).pk
    with _held_sql_lock:
        if key not in _held_sql:
            sql, params = CustomerScope(user_id=_MARK_USER)._held_ids_at(_MARK_NOW).query.sql_with_params()
            if params.count(_MARK_USER) != 2 or params.count(_MARK_NOW) != 2:  # assigned and granted, twice
                raise RuntimeError("The compiled held_ids no longer carries the user and the instant as expected.")
            _held_sql[key] = (sql, tuple(params))
        return _held_sql[key]


def customer_scope(*, user: User) -> CustomerScope:  # Any: AnonymousUser sees nothing
    """Who sees which customer, decided once per request (see CustomerScope); no query."""
    if not _signed_in(user):
        return CustomerScope(sees_none=True)
    if sees_every_customer(user):
        return CustomerScope(user_id=user.pk, sees_all=True)
    branch_id = user.branch_id if user.is_branch_manager and user.branch_id else None
    return CustomerScope(user_id=user.pk, branch_id=branch_id)


def visible_customers(*, user: User) -> QuerySet[Customer]:  # Any: AnonymousUser sees nothing
    """Customers this user may see: the one rule, customer_scope, as a queryset.

    Administrators and compliance officers see every customer (compliance read-only, which
    the services enforce); a branch manager sees their branch and what is assigned to them; a
    relationship manager sees the customers they hold the view object permission on
    (granted by assignment). Anyone else, inactive or anonymous, sees nothing.
    """
    return customer_scope(user=user).customers()


def visible_customers_by_id(*, user: User) -> QuerySet[Customer]:
    """visible_customers, for pages read in id order (the API's cursor pages): the same customers,
    read so that PostgreSQL stops at the page's end (decision 195)."""
    return customer_scope(user=user).customers(in_id_order=True)


def visible_scope(*, user: User, field: str = "customer") -> Q:  # Any: AnonymousUser sees nothing
    """A filter on `field` (a foreign key to Customer) for rows under customers the user may see.

    Empty for someone who sees every customer, so the query does not join a subquery over the
    whole customer table for nothing.
    """
    return customer_scope(user=user).rows(field)


def customer_for_user(*, user: User, customer_id: Any) -> Customer:  # Any: an id from a URL or a form
    """One customer the user may see; missing and forbidden look alike (404)."""
    try:
        return visible_customers(user=user).select_related("branch", "primary_manager").get(pk=int(customer_id))
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such customer.") from None


def managers_with_access(*, customer: Customer) -> QuerySet[CustomerUserObjectPermission]:
    """The object-permission rows that let people see this customer (the admin lists them)."""
    return CustomerUserObjectPermission.objects.filter(content_object=customer).select_related("user", "permission")
