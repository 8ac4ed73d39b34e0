"""What each resource returns and accepts, through the real services."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from apps.accounts.models import Holding
from apps.api.models import Scope
from apps.core.models import AuditEvent
from apps.customers.models import Customer
from apps.customers.services import link_customers
from apps.tasks.models import Task
from tests.accounts.factories import HoldingFactory
from tests.api.conftest import problem
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.products.factories import ProductFactory, ProductRateFactory
from tests.tasks.factories import TaskFactory


def _key() -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}


def test_customer_list_shows_hints_never_clear_personal_data(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager, email="jane.doe@mail.example", national_id="QQ123456C")

    response = manager_api.get("/api/v1/customers/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == customer.pk
    assert row["email_hint"] == "j***@mail.example"
    text = response.content.decode()
    assert "jane.doe@mail.example" not in text
    assert "QQ123456C" not in text
    assert "date_of_birth" not in row and "address" not in row


def test_revealing_personal_data_needs_the_pii_scope_and_is_audited(manager, api_client_for):
    customer = CustomerFactory(assigned_to=manager, email="jane.doe@mail.example")
    without = api_client_for(manager, [Scope.CUSTOMERS_READ])
    with_pii = api_client_for(manager, [Scope.CUSTOMERS_READ, Scope.CUSTOMERS_PII])

    refused = without.get(f"/api/v1/customers/{customer.pk}/pii/")
    revealed = with_pii.get(f"/api/v1/customers/{customer.pk}/pii/", {"reason": "KYC call"})

    assert refused.status_code == 403
    assert problem(refused)["type"].endswith("/insufficient-scope")
    assert revealed.status_code == 200
    assert revealed.json()["email"] == "jane.doe@mail.example"
    event = AuditEvent.objects.get(action="pii.revealed", object_id=str(customer.pk))
    assert event.metadata["reason"] == "KYC call"
    assert event.actor_id == manager.pk


@pytest.mark.parametrize("params", [{}, {"reason": ""}, {"reason": "   "}])
def test_revealing_personal_data_without_a_reason_is_a_400_problem(manager, api_client_for, params):
    customer = CustomerFactory(assigned_to=manager, email="jane.doe@mail.example")
    client = api_client_for(manager, [Scope.CUSTOMERS_READ, Scope.CUSTOMERS_PII])

    response = client.get(f"/api/v1/customers/{customer.pk}/pii/", params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "Give a reason" in problem(response)["detail"] or "reason" in str(problem(response))
    assert "jane.doe@mail.example" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="pii.revealed").exists()


def test_a_branch_manager_creates_a_customer_assigned_to_a_manager(branch_manager, manager, api_client_for):
    client = api_client_for(branch_manager)

    response = client.post(
        "/api/v1/customers/",
        {
            "external_id": "CB-API-1",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@mail.example",
            "manager": manager.pk,
        },
        format="json",
        **_key(),
    )

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(external_id="CB-API-1")
    assert customer.primary_manager == manager
    assert customer.email == "ann@mail.example"
    assert response["Location"].endswith(f"/api/v1/customers/{customer.pk}/")
    assert response["ETag"]
    assert AuditEvent.objects.filter(action="customer.created", object_id=str(customer.pk)).count() == 1


def test_a_domain_rule_comes_back_as_a_field_error(branch_manager, api_client_for):
    CustomerFactory(external_id="CB-TAKEN", branch=branch_manager.branch)
    client = api_client_for(branch_manager)

    response = client.post(
        "/api/v1/customers/", {"external_id": "CB-TAKEN", "last_name": "Lee"}, format="json", **_key()
    )

    assert response.status_code == 400
    errors = problem(response)["errors"]
    assert list(errors) == ["external_id"]
    assert "already exists" in errors["external_id"][0]


def test_customers_are_closed_not_deleted(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)
    etag = manager_api.get(f"/api/v1/customers/{customer.pk}/")["ETag"]

    deleted = manager_api.delete(f"/api/v1/customers/{customer.pk}/")
    closed = manager_api.patch(
        f"/api/v1/customers/{customer.pk}/", {"status": "closed"}, format="json", HTTP_IF_MATCH=etag
    )

    assert deleted.status_code == 405
    problem(deleted)
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"
    assert Customer.objects.get(pk=customer.pk).status == Customer.Status.CLOSED


def test_nested_holdings_relationships_and_documents(manager, manager_api, other_manager):
    customer = CustomerFactory(assigned_to=manager)
    spouse = CustomerFactory(assigned_to=manager)
    stranger = CustomerFactory(assigned_to=other_manager)
    link_customers(actor=None, from_customer=customer, to_customer=spouse, kind="spouse")
    link_customers(actor=None, from_customer=stranger, to_customer=customer, kind="guarantor")
    HoldingFactory(customer=customer, category=Holding.Category.TERM_DEPOSIT)
    from apps.customers.services import add_identity_document

    add_identity_document(
        actor=None, customer=customer, document_type="passport", number="123456789", issuing_country="GB"
    )

    holdings = manager_api.get(f"/api/v1/customers/{customer.pk}/holdings/").json()["results"]
    relationships = manager_api.get(f"/api/v1/customers/{customer.pk}/relationships/").json()["results"]
    documents = manager_api.get(f"/api/v1/customers/{customer.pk}/documents/").json()["results"]

    assert [h["holding"]["category"] for h in holdings] == ["term_deposit"]
    assert holdings[0]["role"] == "owner"
    # The guarantor link to another manager's customer is there, without its id or name.
    assert sorted(
        ((r["related_customer"], r["related_display_name"], r["kind"], r["outside_book"]) for r in relationships),
        key=str,
    ) == sorted(
        [(spouse.pk, spouse.display_name, "spouse", False), (None, None, "guarantor", True)],
        key=str,
    )
    assert stranger.display_name not in str(relationships) and stranger.external_id not in str(relationships)
    assert documents[0]["number_hint"] == "••••789"
    assert "123456789" not in str(documents)


def test_holding_parties_list_only_customers_the_caller_may_see(manager, other_manager, manager_api):
    mine = CustomerFactory(assigned_to=manager)
    theirs = CustomerFactory(assigned_to=other_manager)
    holding = HoldingFactory(customer=mine, parties={mine: "owner", theirs: "joint"})

    body = manager_api.get(f"/api/v1/holdings/{holding.pk}/").json()

    assert body["parties"] == [{"customer": mine.pk, "role": "owner"}]
    assert body["number_hint"].startswith("••••")


def test_products_come_with_their_rate_history(manager_api):
    product = ProductFactory()
    ProductRateFactory(product=product, effective_from=dt.date(2025, 1, 1))
    ProductRateFactory(product=product, effective_from=dt.date(2026, 1, 1))

    detail = manager_api.get(f"/api/v1/products/{product.pk}/")
    rates = manager_api.get(f"/api/v1/products/{product.pk}/rates/").json()["results"]

    assert detail.json()["code"] == product.code
    assert [r["effective_from"] for r in rates] == ["2025-01-01", "2026-01-01"]


def test_a_task_is_created_and_completed_through_the_services(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)
    due = (timezone.now() + dt.timedelta(days=2)).isoformat()

    created = manager_api.post(
        "/api/v1/tasks/", {"customer": customer.pk, "title": "Call back", "due_at": due}, format="json", **_key()
    )
    task_id = created.json()["id"]
    completed = manager_api.post(f"/api/v1/tasks/{task_id}/complete/", {"outcome": "Done"}, format="json")
    again = manager_api.post(f"/api/v1/tasks/{task_id}/complete/", {}, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["assignee"] == manager.pk
    assert completed.status_code == 200
    assert Task.objects.get(pk=task_id).status == Task.Status.DONE
    assert again.status_code == 409
    assert problem(again)["type"].endswith("/conflict")


def test_a_task_cannot_be_created_on_a_customer_the_caller_cannot_see(other_manager, manager_api):
    theirs = CustomerFactory(assigned_to=other_manager)

    response = manager_api.post(
        "/api/v1/tasks/",
        {"customer": theirs.pk, "title": "Probe", "due_at": timezone.now().isoformat()},
        format="json",
        **_key(),
    )

    assert response.status_code == 400
    assert problem(response)["errors"] == {"customer": ["No such customer."]}
    assert not Task.objects.exists()


def test_an_interaction_is_logged_and_listed(manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)

    created = manager_api.post(
        "/api/v1/interactions/",
        {"customer": customer.pk, "channel": "phone", "subject": "Renewal", "body": "Wants 12 months"},
        format="json",
        **_key(),
    )
    listed = manager_api.get("/api/v1/interactions/", {"customer": customer.pk}).json()["results"]

    assert created.status_code == 201, created.json()
    assert [i["subject"] for i in listed] == ["Renewal"]


def test_confidential_interactions_of_others_stay_hidden(manager, branch_manager, api_client_for):
    customer = CustomerFactory(assigned_to=manager)
    secret = InteractionFactory(customer=customer, is_confidential=True)
    client = api_client_for(branch_manager)

    assert client.get(f"/api/v1/interactions/{secret.pk}/").status_code == 404
    assert client.get("/api/v1/interactions/").json()["results"] == []
    TaskFactory(customer=customer)


def test_the_household_position_counts_only_relatives_the_caller_may_see(manager, other_manager, manager_api):
    customer = CustomerFactory(assigned_to=manager)
    spouse = CustomerFactory(assigned_to=manager)
    stranger = CustomerFactory(assigned_to=other_manager)
    link_customers(actor=None, from_customer=customer, to_customer=spouse, kind="spouse")
    link_customers(actor=None, from_customer=stranger, to_customer=customer, kind="household")
    HoldingFactory(customer=spouse, currency="GBP", balance="40.00")
    HoldingFactory(customer=stranger, currency="GBP", balance="777.00")

    body = manager_api.get(f"/api/v1/customers/{customer.pk}/position/").json()

    assert body["household_members"] == [spouse.pk]
    assert body["household_outside_book"] == 1
    assert [(p["currency"], p["held"]) for p in body["household_positions"]] == [("GBP", "40.00")]
