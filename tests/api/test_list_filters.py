"""A list request names filters or not (decision 138): without one, every visible row; with one, only
the matching rows; a page or cursor parameter is not a filter."""

from __future__ import annotations

from apps.customers.models import Customer
from tests.customers.factories import CustomerFactory

CUSTOMERS = "/api/v1/customers/"


def _ids(response) -> set[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_list_without_filters_gives_every_visible_customer_and_a_filter_narrows_it(
    manager, other_manager, manager_api
):
    mine = {CustomerFactory(assigned_to=manager, external_id=f"CB-F-{n}").pk for n in range(3)}
    CustomerFactory(assigned_to=other_manager, external_id="CB-F-THEIRS")

    assert _ids(manager_api.get(CUSTOMERS)) == mine
    assert _ids(manager_api.get(CUSTOMERS, {"page_size": 2})) < mine
    assert _ids(manager_api.get(CUSTOMERS, {"external_id": "CB-F-1"})) == {
        Customer.objects.get(external_id="CB-F-1").pk
    }
    assert _ids(manager_api.get(CUSTOMERS, {"external_id": "CB-F-THEIRS"})) == set()  # still the viewer's book
    assert manager_api.get(CUSTOMERS, {"status": ""}).status_code == 400  # an empty filter is still refused
