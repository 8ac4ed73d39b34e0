"""Portfolio management: bulk assignment and whole-portfolio transfer, through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
from apps.customers.services import assign_customers
from apps.identity import roles
from tests.identity.factories import BranchFactory, UserFactory


def bulk_customers(count: int, *, branch, manager=None, segment: str = "mass", tag: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    """`count` customers in one INSERT, then one assignment call (permissions, history, audit)."""
    rows = []
    for n in range(count):
        customer = Customer(
            external_id=f"BULK{tag}{branch.code}{segment}{n:06d}",
            first_name="Bulk",
            last_name=f"Customer {n}",
            branch=branch,
            segment=segment,
        )
        customer.set_pii("email", f"bulk{n}@mail.example")
        customer.display_name = customer.compose_display_name()
        rows.append(customer)
    ids = [customer.pk for customer in Customer.objects.bulk_create(rows)]
    if manager is not None:
        assign_customers(actor=None, customer_ids=ids, manager=manager, reason="Initial book")
    return ids


@pytest.mark.parametrize("size", [3, 1000])
def test_a_portfolio_transfer_moves_every_customer_and_permission_in_constant_queries(
    client, administrator, manager, other_manager, branch, size, django_assert_max_num_queries
):
    ids = bulk_customers(size, branch=branch, manager=manager)
    client.force_login(administrator)

    with django_assert_max_num_queries(30):
        response = client.post(
            reverse("portfolio:transfer"),
            {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Manager leaving the bank"},
        )

    assert response.status_code == 302
    assert Customer.objects.filter(pk__in=ids, primary_manager=other_manager).count() == size
    permissions = CustomerUserObjectPermission.objects.filter(content_object_id__in=ids)
    assert not permissions.filter(user=manager).exists()
    assert permissions.filter(user=other_manager).count() == size * 2  # view + change
    assert (
        CustomerAssignment.objects.filter(customer_id__in=ids, manager=other_manager, ended_at__isnull=True).count()
        == size
    )
    moved = AuditEvent.objects.filter(action="customer.reassigned", metadata__reason="Manager leaving the bank")
    assert moved.count() == size
    transfer = AuditEvent.objects.get(action="portfolio.transferred")
    assert transfer.actor == administrator
    assert transfer.metadata["customers"] == size


def test_bulk_assign_moves_the_filtered_customers_only(client, administrator, manager, branch):
    unassigned = bulk_customers(4, branch=branch, segment="premium")
    other_segment = bulk_customers(2, branch=branch, segment="mass")
    client.force_login(administrator)

    response = client.post(
        reverse("portfolio:assign"),
        {"current_manager": "unassigned", "segment": "premium", "to_manager": manager.pk, "reason": "New book"},
    )

    assert response.status_code == 302
    assert set(Customer.objects.filter(primary_manager=manager).values_list("pk", flat=True)) == set(unassigned)
    assert not Customer.objects.filter(pk__in=other_segment, primary_manager__isnull=False).exists()
    assert AuditEvent.objects.filter(action="customer.reassigned", metadata__reason="New book").count() == 4


def test_a_branch_manager_sees_and_moves_only_their_branch(client, branch_manager, manager, other_manager, branch):
    elsewhere = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="far.away")
    bulk_customers(2, branch=branch, manager=manager)
    client.force_login(branch_manager)

    page = client.get(reverse("portfolio:index"))
    refused = client.post(
        reverse("portfolio:transfer"), {"from_manager": manager.pk, "to_manager": elsewhere.pk, "reason": "x"}
    )
    done = client.post(
        reverse("portfolio:transfer"), {"from_manager": manager.pk, "to_manager": other_manager.pk, "reason": "Cover"}
    )

    usernames = [m.username for m in page.context["managers"]]
    assert sorted(usernames) == sorted(["manager.a", "manager.b", "branch.boss"])
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert done.status_code == 302
    assert Customer.objects.filter(primary_manager=other_manager).count() == 2


def test_the_portfolio_page_lists_managers_with_their_counts(client, administrator, manager, branch):
    bulk_customers(3, branch=branch, manager=manager)
    client.force_login(administrator)

    page = client.get(reverse("portfolio:index"))

    counts = {m.username: m.customer_count for m in page.context["managers"]}
    assert counts["manager.a"] == 3
    assert "Transfer a portfolio" in page.content.decode()


def test_transferring_to_the_same_manager_is_a_clear_error(client, administrator, manager):
    client.force_login(administrator)

    response = client.post(
        reverse("portfolio:transfer"), {"from_manager": manager.pk, "to_manager": manager.pk, "reason": "x"}
    )

    assert response.status_code == 400
    assert "Choose a different manager" in response.content.decode()


@pytest.mark.parametrize("who", ["manager", "compliance_officer"])
def test_managers_and_compliance_cannot_manage_portfolios(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("portfolio:index")).status_code == 403
    assert client.post(reverse("portfolio:transfer"), {}).status_code == 403


def test_the_transfer_query_count_does_not_grow_with_the_portfolio(administrator, branch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.customers.services import transfer_portfolio

    counts = []
    for size in (1, 3, 1000):  # the first run warms per-process caches (content types)
        leaving = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
        taking_over = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch)
        bulk_customers(size, branch=branch, manager=leaving, tag=str(size))
        with CaptureQueriesContext(connection) as queries:
            assert transfer_portfolio(actor=administrator, from_manager=leaving, to_manager=taking_over) == size
        counts.append(len(queries))

    assert counts[1] == counts[2]
