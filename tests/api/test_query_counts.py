"""List endpoints run in a constant number of queries, whatever the page size and data size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.customers.services import add_identity_document, link_customers
from apps.products.models import ProductFee
from tests.accounts.factories import HoldingFactory
from tests.api.conftest import issue_key, key_client
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.products.factories import ProductFactory, ProductRateFactory
from tests.tasks.factories import TaskFactory

MAX_QUERIES = 12


def _customers(manager: Any, n: int) -> str:
    for _ in range(n):
        CustomerFactory(assigned_to=manager)
    return "/api/v1/customers/"


def _holdings(manager: Any, n: int) -> str:
    customer = CustomerFactory(assigned_to=manager)
    partner = CustomerFactory(assigned_to=manager)
    for _ in range(n):
        HoldingFactory(customer=customer, parties={customer: "owner", partner: "joint"})
    return "/api/v1/holdings/"


def _tasks(manager: Any, n: int) -> str:
    customer = CustomerFactory(assigned_to=manager)
    for _ in range(n):
        TaskFactory(customer=customer)
    return "/api/v1/tasks/"


def _interactions(manager: Any, n: int) -> str:
    customer = CustomerFactory(assigned_to=manager)
    for _ in range(n):
        InteractionFactory(customer=customer)
    return "/api/v1/interactions/"


def _products(manager: Any, n: int) -> str:
    for _ in range(n):
        product = ProductFactory()
        product.branches.add(manager.branch)
        ProductFee.objects.create(product=product, name="Arrangement", amount=10)
    return "/api/v1/products/"


def _customer_holdings(manager: Any, n: int) -> str:
    customer = CustomerFactory(assigned_to=manager)
    for _ in range(n):
        HoldingFactory(customer=customer)
    return f"/api/v1/customers/{customer.pk}/holdings/"


def _customer_relationships(manager: Any, n: int) -> str:
    customer = CustomerFactory(assigned_to=manager)
    for _ in range(n):
        link_customers(
            actor=None, from_customer=customer, to_customer=CustomerFactory(assigned_to=manager), kind="household"
        )
    return f"/api/v1/customers/{customer.pk}/relationships/"


def _customer_documents(manager: Any, n: int) -> str:
    customer = CustomerFactory(assigned_to=manager)
    for i in range(n):
        add_identity_document(
            actor=None, customer=customer, document_type="passport", number=f"P{i:08d}", issuing_country="GB"
        )
    return f"/api/v1/customers/{customer.pk}/documents/"


def _product_rates(manager: Any, n: int) -> str:
    product = ProductFactory()
    for i in range(n):
        ProductRateFactory(product=product, effective_from=dt.date(2020, 1, 1) + dt.timedelta(days=i))
    return f"/api/v1/products/{product.pk}/rates/"


LISTS: dict[str, Callable[[Any, int], str]] = {
    "customers": _customers,
    "holdings": _holdings,
    "tasks": _tasks,
    "interactions": _interactions,
    "products": _products,
    "customer holdings": _customer_holdings,
    "customer relationships": _customer_relationships,
    "customer documents": _customer_documents,
    "product rates": _product_rates,
}


def _count(client: Any, url: str, page_size: int, assert_max: Any, cache_queries: int) -> tuple[int, int]:
    client.get(url)  # warm-up: the key's last-use stamp is written at most once a minute
    with assert_max(MAX_QUERIES + cache_queries), CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("name", sorted(LISTS))
def test_list_queries_stay_flat(name, branch, django_assert_max_num_queries, cache_queries):
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    counts = []
    for size, page_size in ((3, 5), (30, 50)):
        manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
        url = LISTS[name](manager, size)
        _, secret = issue_key(manager)
        queries, rows = _count(key_client(secret), url, page_size, django_assert_max_num_queries, cache_queries)
        assert rows >= size  # (the catalog is shared, so products of the first round show too)
        counts.append(queries)

    assert counts[0] == counts[1], f"{name}: {counts[0]} queries for 3 rows, {counts[1]} for 30"
