"""The API's customer list reads a page, not a manager's whole book (decision 195)."""

from __future__ import annotations

from tests.customers.factories import CustomerFactory
from tests.query_plans import generic_plan, rows_read, statements_sent


def test_a_page_in_id_order_reads_the_page_not_the_whole_book(manager, manager_api):
    """Decision 195: under the generic plan PostgreSQL keeps for the API list's statement, a page
    of 25 in id order reads about 25 customers, not every customer of a manager's book."""
    book = [CustomerFactory(assigned_to=manager) for _ in range(80)]
    with statements_sent() as statements:
        response = manager_api.get("/api/v1/customers/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == sorted(c.pk for c in book)[:25]

    (statement,) = (s for s in statements if s[0].startswith('SELECT "customers_customer"'))
    assert rows_read(generic_plan(*statement), "customers_customer") <= 26
