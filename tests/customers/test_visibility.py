"""apps.customers.visibility: who sees, who edits, who reveals, who can be given work (one module)."""

from __future__ import annotations

import pytest

from apps.core.errors import PermissionDenied
from apps.customers.services import update_customer
from apps.customers.visibility import (
    active_managers,
    can_reveal_pii,
    may_edit_customers,
    may_hold_work_on,
    users_who_see,
    visible_customers,
)
from apps.identity import roles
from apps.leads.services import reject_lead
from apps.tasks.selectors import assignable_users
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.leads.factories import new_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def compliance_manager(branch):  # type: ignore[no-untyped-def]
    """A compliance officer who also holds the relationship manager role."""
    return UserFactory(roles=[roles.COMPLIANCE_OFFICER, roles.RELATIONSHIP_MANAGER], branch=branch)


def test_compliance_never_edits_even_with_a_manager_role(compliance_manager, manager):
    customer = CustomerFactory(assigned_to=manager)

    assert not may_edit_customers(compliance_manager)
    with pytest.raises(PermissionDenied):
        update_customer(actor=compliance_manager, customer=customer, segment="premium")
    assert visible_customers(user=compliance_manager).filter(pk=customer.pk).exists()  # still reads it


def test_an_administrator_who_is_also_compliance_may_edit(branch):
    admin = UserFactory(roles=[roles.ADMINISTRATOR, roles.COMPLIANCE_OFFICER], branch=branch)

    assert may_edit_customers(admin)


@pytest.mark.parametrize(
    ("role", "edits"),
    [
        (roles.RELATIONSHIP_MANAGER, True),
        (roles.BRANCH_MANAGER, True),
        (roles.ADMINISTRATOR, True),
        (roles.COMPLIANCE_OFFICER, False),
    ],
)
def test_who_may_edit_by_role(branch, role, edits):
    assert may_edit_customers(UserFactory(roles=[role], branch=branch)) is edits


def test_an_inactive_manager_may_not_edit(branch):
    assert not may_edit_customers(UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, is_active=False))


def test_the_lead_services_refuse_a_compliance_manager_too(compliance_manager, manager):
    """The lead services ask the one rule (before, leads had their own copy of it)."""
    customer = CustomerFactory(assigned_to=manager)

    with pytest.raises(PermissionDenied):
        reject_lead(actor=compliance_manager, lead=new_lead(branch=customer.branch), reason="spam")


def test_only_holders_of_reveal_pii_may_reveal(manager, compliance_officer):
    from django.contrib.auth.models import AnonymousUser

    assert can_reveal_pii(user=compliance_officer) is compliance_officer.has_perm("customers.reveal_pii")
    assert can_reveal_pii(user=manager) is manager.has_perm("customers.reveal_pii")
    assert not can_reveal_pii(user=AnonymousUser())


def test_active_managers_are_active_relationship_and_branch_managers_but_never_compliance(branch, compliance_manager):
    rm = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
    bm = UserFactory(roles=[roles.BRANCH_MANAGER], branch=branch)
    UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, is_active=False)
    UserFactory(roles=[roles.COMPLIANCE_OFFICER], branch=branch)
    UserFactory(roles=[roles.ADMINISTRATOR], branch=branch)

    assert set(active_managers()) == {rm, bm}
    assert compliance_manager not in active_managers()


def test_who_may_hold_a_task_is_who_sees_the_customer_among_active_managers(branch, manager, other_manager):
    customer = CustomerFactory(assigned_to=manager, branch=branch)
    boss = UserFactory(roles=[roles.BRANCH_MANAGER], branch=branch)
    UserFactory(roles=[roles.BRANCH_MANAGER], branch=BranchFactory())  # another branch's manager
    compliance = UserFactory(roles=[roles.COMPLIANCE_OFFICER])

    seers = set(users_who_see(customer=customer))
    assert {manager, boss, compliance} <= seers
    assert other_manager not in seers
    assert set(may_hold_work_on(customer=customer)) == {manager, boss}
    assert list(assignable_users(customer=customer)) == sorted(
        {manager, boss}, key=lambda u: (u.first_name, u.last_name, u.username)
    )
    # users_who_see is the reverse of visible_customers: the same answer from both sides.
    for user in seers:
        assert visible_customers(user=user).filter(pk=customer.pk).exists()
