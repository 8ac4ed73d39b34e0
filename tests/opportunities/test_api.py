"""The opportunities API: scoped reads, service writes, RFC 9457 problems for bad input."""

from __future__ import annotations

import uuid

import pytest

from apps.core.models import AuditEvent
from apps.opportunities.models import Opportunity
from tests.api.conftest import issue_key, key_client
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import default_stages, opportunity
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(manager):  # type: ignore[no-untyped-def]
    return key_client(issue_key(manager)[1])


def _post(api, url, body):  # type: ignore[no-untyped-def]
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_opening_moving_and_winning_over_the_api(api, manager):
    default_stages()
    customer = CustomerFactory(assigned_to=manager)
    body = {
        "customer": customer.pk,
        "product": ProductFactory().pk,
        "amount": "12000.00",
        "currency": "EUR",
        "expected_close": "2026-10-01",
    }

    created = _post(api, "/api/v1/opportunities/", body)
    assert created.status_code == 201, created.content
    url = created["Location"]
    moved = _post(api, f"{url}move/", {"stage": "Negotiation"})
    won = _post(api, f"{url}close/", {"outcome": "won", "reason": "Rate matched"})

    assert (created.json()["stage"], created.json()["probability"]) == ("Prospecting", 10)
    assert (moved.json()["stage"], moved.json()["probability"]) == ("Negotiation", 75)
    assert won.status_code == 200 and won.json()["outcome"] == "won"
    actions = set(
        AuditEvent.objects.filter(
            object_type="opportunities.opportunity", object_id=str(created.json()["id"])
        ).values_list("action", flat=True)
    )
    assert actions == {"opportunity.created", "opportunity.moved", "opportunity.won"}


def test_another_managers_customer_is_a_problem_not_an_opportunity(api, other_manager):
    default_stages()
    body = {
        "customer": CustomerFactory(assigned_to=other_manager).pk,
        "product": ProductFactory().pk,
        "amount": "10.00",
        "currency": "GBP",
        "expected_close": "2026-10-01",
    }

    response = _post(api, "/api/v1/opportunities/", body)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "customer" in response.json()["errors"]
    assert not Opportunity.objects.exists()


def test_winning_without_a_reason_and_moving_a_closed_one_are_problems(api, manager):
    opened = opportunity(owner=manager)
    url = f"/api/v1/opportunities/{opened.pk}/"

    no_reason = _post(api, f"{url}move/", {"stage": "Won"})
    _post(api, f"{url}close/", {"outcome": "lost", "reason": "Price"})
    closed = _post(api, f"{url}move/", {"stage": "Proposal"})

    assert no_reason.status_code == 400 and no_reason["Content-Type"].startswith("application/problem+json")
    assert closed.status_code == 409 and closed.json()["status"] == 409


def test_the_list_holds_only_what_the_caller_may_see(api, manager, other_manager):
    mine = opportunity(owner=manager)
    opportunity(owner=other_manager)

    response = api.get("/api/v1/opportunities/")

    assert [row["id"] for row in response.json()["results"]] == [mine.pk]
