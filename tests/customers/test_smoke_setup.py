import pytest

from apps.customers.selectors import visible_customers
from tests.customers.factories import CustomerFactory


@pytest.mark.smoke
def test_a_manager_sees_only_their_assigned_customers(manager, other_manager):
    mine = CustomerFactory(assigned_to=manager)
    CustomerFactory(assigned_to=other_manager)

    assert list(visible_customers(user=manager)) == [mine]
