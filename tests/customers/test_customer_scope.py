"""customer_scope: visible_customers decided once, for pages that filter several tables by it.

It must see exactly what visible_customers sees, for every role, and filter rows under
customers exactly as visible_scope does.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.utils import timezone

from apps.customers.models import CustomerUserObjectPermission
from apps.customers.services import assign_customer
from apps.customers.visibility import customer_scope, visible_customers, visible_customers_by_id, visible_scope
from apps.identity import roles
from apps.identity.models import User
from apps.tasks.models import Task
from tests.customers.factories import CustomerFactory, break_glass_grant
from tests.identity.factories import BranchFactory, UserFactory
from tests.tasks.factories import TaskFactory

ROLES = ["manager", "other_manager", "branch_manager", "compliance_officer", "administrator"]


def fresh(user: User) -> User:
    """The user as a new request would load it (no cached roles)."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def book(manager, other_manager, branch_manager, branch):  # type: ignore[no-untyped-def]
    """Customers in the branch (two managers' and one nobody's yet), and two in another branch:
    one another manager's, one assigned directly to the branch manager."""
    elsewhere = BranchFactory()
    far_manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=elsewhere, username="manager.far")
    return {
        "mine": {CustomerFactory(assigned_to=manager, branch=branch) for _ in range(2)},
        "colleague": {CustomerFactory(assigned_to=other_manager, branch=branch)},
        "unassigned": {CustomerFactory(branch=branch)},
        "far": {CustomerFactory(assigned_to=far_manager, branch=elsewhere)},
        "bm_direct": {CustomerFactory(assigned_to=branch_manager, branch=elsewhere)},
    }


def expected(book, role):  # type: ignore[no-untyped-def]
    everyone = set().union(*book.values())
    return {
        "manager": book["mine"],
        "other_manager": book["colleague"],
        "branch_manager": book["mine"] | book["colleague"] | book["unassigned"] | book["bm_direct"],
        "compliance_officer": everyone,
        "administrator": everyone,
    }[role]


@pytest.mark.parametrize("role", ROLES)
def test_the_scope_sees_exactly_the_customers_visible_customers_gives(request, book, role):
    user = fresh(request.getfixturevalue(role))

    seen = set(customer_scope(user=user).customers())

    assert seen == set(visible_customers(user=user))
    assert seen == expected(book, role)


@pytest.mark.parametrize("role", ROLES)
def test_the_customers_in_id_order_are_the_same_customers_sorted(request, book, role):
    """visible_customers_by_id (decision 195) is visible_customers read another way: the same
    customers, a break-glass grant in force included and a lapsed one not, in id order, a page
    at a time."""
    user = fresh(request.getfixturevalue(role))
    opened, lapsed = CustomerFactory(), CustomerFactory()
    approver = UserFactory(roles=[roles.ADMINISTRATOR], username="approver")
    break_glass_grant(user, opened, approved_by=approver, ends=timezone.now() + dt.timedelta(hours=1))
    break_glass_grant(user, lapsed, approved_by=approver, ends=timezone.now() - dt.timedelta(minutes=1))
    user = fresh(user)

    listed = list(visible_customers_by_id(user=user).order_by("id"))

    assert listed == sorted(visible_customers(user=user), key=lambda customer: customer.pk)
    assert set(listed) >= expected(book, role)
    assert (opened in listed, lapsed in listed) == (True, role in ("compliance_officer", "administrator"))
    after = listed[1].pk if len(listed) > 1 else 0
    assert list(visible_customers_by_id(user=user).filter(pk__gt=after).order_by("id")[:2]) == listed[2:4]


@pytest.mark.parametrize("role", ROLES)
def test_rows_under_customers_are_filtered_as_visible_scope_filters_them(request, book, role, manager):
    tasks = {customer: TaskFactory(customer=customer, assignee=manager) for c in book.values() for customer in c}
    user = fresh(request.getfixturevalue(role))

    rows = set(Task.objects.filter(customer_scope(user=user).rows()))

    assert rows == set(Task.objects.filter(visible_scope(user=user)))
    assert rows == {tasks[customer] for customer in expected(book, role)}


def test_a_permission_other_than_view_shows_nothing(manager, other_manager, branch):
    theirs = CustomerFactory(assigned_to=other_manager, branch=branch)
    change = Permission.objects.get(content_type__app_label="customers", codename="change_customer")
    CustomerUserObjectPermission.objects.create(user=manager, permission=change, content_object=theirs)
    user = fresh(manager)

    assert not customer_scope(user=user).customers().exists()
    assert not visible_customers(user=user).exists()


@pytest.mark.parametrize("role", ["manager", "branch_manager", "compliance_officer"])
def test_an_inactive_user_sees_nothing_and_costs_no_query(request, book, role, django_assert_num_queries):
    user = request.getfixturevalue(role)
    user.is_active = False
    user.save(update_fields=["is_active"])
    scope = customer_scope(user=fresh(user))

    with django_assert_num_queries(0):
        assert list(Task.objects.filter(scope.rows())) == []
        assert list(scope.customers()) == []


def test_a_user_without_a_role_and_an_anonymous_one_see_nothing(book, branch):
    for user in (fresh(UserFactory(branch=branch)), AnonymousUser()):
        assert not customer_scope(user=user).customers().exists()
        assert not visible_customers(user=user).exists()


def test_a_reassigned_customer_leaves_the_old_managers_scope(manager, other_manager, branch):
    customer = CustomerFactory(assigned_to=manager, branch=branch)

    assign_customer(actor=None, customer=customer, manager=other_manager, reason="Holiday cover")

    assert list(customer_scope(user=fresh(manager)).customers()) == []
    assert list(customer_scope(user=fresh(other_manager)).customers()) == [customer]


def test_the_compiled_held_ids_carry_each_managers_own_user_and_instant(book, manager, other_manager):
    """held_ids_sql (decision 114): one SQL text for every manager, each scope's own parameters,
    the same customers as the ORM's held_ids."""
    from django.db import connection

    mine, theirs = customer_scope(user=fresh(manager)), customer_scope(user=fresh(other_manager))

    def ids(raw) -> set[int]:  # type: ignore[no-untyped-def]
        sql, params = raw.sql, raw.params
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {row[0] for row in cursor.fetchall()}

    assert mine.held_ids_sql.sql == theirs.held_ids_sql.sql
    assert mine.held_ids_sql.params != theirs.held_ids_sql.params
    assert ids(mine.held_ids_sql) == set(mine.held_ids.values_list("content_object_id", flat=True))
    assert ids(mine.held_ids_sql) == {c.pk for c in book["mine"]}
    assert ids(theirs.held_ids_sql) == {c.pk for c in book["colleague"]}
