"""visible_customers: who sees which customer, in a number of queries that does not grow."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.customers.services import assign_customer, assign_customers
from apps.customers.visibility import visible_customers
from apps.identity import roles
from apps.identity.models import User
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory


def fresh(user: User) -> User:
    """The user as a new request would load it (no cached roles)."""
    return User.objects.get(pk=user.pk)


def test_a_manager_sees_exactly_the_customers_assigned_to_them(manager, other_manager, branch):
    mine = {CustomerFactory(assigned_to=manager, branch=branch) for _ in range(3)}
    CustomerFactory(assigned_to=other_manager, branch=branch)
    CustomerFactory(branch=branch)  # nobody's yet

    assert set(visible_customers(user=fresh(manager))) == mine


def test_another_managers_customers_are_invisible(manager, other_manager, branch):
    theirs = CustomerFactory(assigned_to=other_manager, branch=branch)

    assert not visible_customers(user=fresh(manager)).filter(pk=theirs.pk).exists()


def test_a_branch_manager_sees_their_branch_and_not_another(branch_manager, manager, branch):
    here = {CustomerFactory(assigned_to=manager, branch=branch), CustomerFactory(branch=branch)}
    elsewhere = BranchFactory()
    CustomerFactory(branch=elsewhere, assigned_to=UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=elsewhere))

    assert set(visible_customers(user=fresh(branch_manager))) == here


def test_a_compliance_officer_sees_every_customer(compliance_officer, manager, branch):
    everyone = {CustomerFactory(assigned_to=manager, branch=branch), CustomerFactory(branch=BranchFactory())}

    assert set(visible_customers(user=fresh(compliance_officer))) == everyone


def test_an_administrator_sees_every_customer(administrator, manager, branch):
    everyone = {CustomerFactory(assigned_to=manager, branch=branch), CustomerFactory(branch=BranchFactory())}

    assert set(visible_customers(user=fresh(administrator))) == everyone


@pytest.mark.parametrize("role_fixture", ["manager", "branch_manager", "compliance_officer"])
def test_an_inactive_user_sees_no_customer(request, branch, role_fixture):
    user = request.getfixturevalue(role_fixture)
    CustomerFactory(assigned_to=request.getfixturevalue("manager"), branch=branch)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert not visible_customers(user=fresh(user)).exists()


def test_a_user_without_a_role_sees_no_customer(branch, manager):
    CustomerFactory(assigned_to=manager, branch=branch)

    assert not visible_customers(user=UserFactory(branch=branch)).exists()


def test_reassigning_a_customer_moves_visibility(manager, other_manager, branch):
    customer = CustomerFactory(assigned_to=manager, branch=branch)

    assign_customer(actor=None, customer=customer, manager=other_manager, reason="Holiday cover")

    assert not visible_customers(user=fresh(manager)).filter(pk=customer.pk).exists()
    assert list(visible_customers(user=fresh(other_manager))) == [customer]


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize("role_fixture", ["manager", "branch_manager", "compliance_officer"])
def test_listing_visible_customers_takes_the_same_queries_at_any_size(
    request, branch, manager, size, role_fixture, django_assert_max_num_queries, cache_queries
):
    for _ in range(size):
        CustomerFactory(assigned_to=manager, branch=branch)
    user = fresh(request.getfixturevalue(role_fixture))

    # Roles, guardian's permission and content type (cold cache), the list; the database cache's too.
    with django_assert_max_num_queries(4 + cache_queries):
        customers = list(visible_customers(user=user))

    assert len(customers) == size


def _queries_to_assign(count: int, manager: User, branch) -> int:  # type: ignore[no-untyped-def]
    ids = [CustomerFactory(assigned_to=manager, branch=branch).pk for _ in range(count)]
    target = fresh(UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch))
    with CaptureQueriesContext(connection) as queries:
        moved = assign_customers(actor=None, customer_ids=ids, manager=target, reason="Rebalance")
    assert moved == count
    assert set(visible_customers(user=fresh(target)).values_list("pk", flat=True)) == set(ids)
    return len(queries)


def test_assigning_thirty_customers_takes_as_many_queries_as_assigning_three(manager, branch):
    assert _queries_to_assign(30, manager, branch) == _queries_to_assign(3, manager, branch)


@pytest.mark.parametrize("size", [3, 30])
def test_assign_customers_stays_within_a_fixed_query_budget(manager, branch, size, django_assert_max_num_queries):
    ids = [CustomerFactory(assigned_to=manager, branch=branch).pk for _ in range(size)]
    target = fresh(UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch))

    with django_assert_max_num_queries(13):
        assign_customers(actor=None, customer_ids=ids, manager=target)


@pytest.mark.django_db
def test_the_household_names_a_relative_outside_the_book_only_as_such(manager, other_manager):
    from apps.accounts.positions import household_position
    from apps.customers.household import household_of
    from apps.customers.services import link_customers
    from tests.accounts.factories import HoldingFactory

    customer, mine = CustomerFactory(assigned_to=manager), CustomerFactory(assigned_to=manager)
    theirs = CustomerFactory(assigned_to=other_manager)
    link_customers(actor=None, from_customer=customer, to_customer=mine, kind="household")
    link_customers(actor=None, from_customer=theirs, to_customer=customer, kind="spouse")
    HoldingFactory(customer=theirs, currency="GBP", balance="500.00")

    household = household_of(user=manager, customer=customer)

    assert [(m.customer, m.relationships, m.outside_book) for m in household] == [
        (mine, ["Same household"], False),
        (None, ["Spouse or partner"], True),
    ]
    assert household[1].outside_book_label == "a customer outside your book"
    assert all(p.held == 0 for p in household_position(customer=customer, household=household))
    # Their own manager sees the same link with a name.
    assert [m.customer for m in household_of(user=other_manager, customer=theirs)] == [None]


@pytest.mark.django_db
def test_the_household_links_read_with_the_customer_give_the_same_household(
    manager, other_manager, compliance_officer, django_assert_num_queries
):
    """The 360 page reads the links as a column of its customer (decision 183): the household
    built from them is the one the links' own query gives, for each viewer, in one query fewer."""
    from apps.customers.household import household_links, household_of
    from apps.customers.models import Customer
    from apps.customers.services import link_customers

    customer, mine, both = (CustomerFactory(assigned_to=manager) for _ in range(3))
    theirs, lonely = CustomerFactory(assigned_to=other_manager), CustomerFactory(assigned_to=manager)
    link_customers(actor=None, from_customer=customer, to_customer=mine, kind="household")
    link_customers(actor=None, from_customer=theirs, to_customer=customer, kind="spouse")
    link_customers(actor=None, from_customer=both, to_customer=customer, kind="spouse")
    link_customers(actor=None, from_customer=customer, to_customer=both, kind="household")
    link_customers(actor=None, from_customer=customer, to_customer=lonely, kind="guarantor")

    def shown(household):
        return [(m.customer and m.customer.pk, m.relationships) for m in household]

    for viewer in (manager, other_manager, compliance_officer):
        for someone in (customer, theirs, lonely):
            row = Customer.objects.annotate(household_links=household_links()).get(pk=someone.pk)
            expected = household_of(user=viewer, customer=someone)
            with django_assert_num_queries(1 if expected else 0):  # the relatives alone
                assert shown(household_of(user=viewer, customer=someone, links=row.household_links)) == shown(expected)
    row = Customer.objects.annotate(household_links=household_links()).get(pk=customer.pk)
    kinds = sorted(kind for _, _, kind in row.household_links)
    assert kinds == ["household", "household", "spouse", "spouse"]  # the guarantor is no household
    assert shown(household_of(user=manager, customer=customer, links=row.household_links))[-1] == (
        None,
        ["Spouse or partner"],
    )
