"""Customer admin (administrators only): scoped rows, flat lists, service writes, the reassign action."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change
from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment
from apps.customers.visibility import visible_customers
from apps.identity import roles
from tests.admin_support import admin_is_closed_to, admin_ready, management_data  # noqa: F401
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory

CHANGELIST = "admin:customers_customer_changelist"


def change_url(customer: Customer) -> str:
    return reverse("admin:customers_customer_change", args=[customer.pk])


def listed(response) -> set[int]:  # type: ignore[no-untyped-def]
    return {customer.pk for customer in response.context["cl"].result_list}


def profile_data(customer: Customer | None = None, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "individual",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "",
        "date_of_birth": "1985-12-10",
        "national_id": "AB123456C",
        "email": "ada@mail.example",
        "phone": "+44 7700 900123",
        "address": "12 St James's Square, London",
        "country": "GB",
        "segment": "affluent",
        "risk_profile": "3",
        "annual_income": "85000.00",
        "income_currency": "GBP",
        "kyc_status": "verified",
        "kyc_review_date": "",
        "status": "active",
        "customer_since": "",
    }
    if customer is not None:
        for name in list(data):
            value = getattr(customer, name)
            data[name] = "" if value is None else str(value)
    data.update(overrides)
    return data


def test_the_customer_admin_rows_follow_the_selector_behind_the_gate_too(rf, manager, other_manager):
    # Only administrators pass the admin gate; the querysets stay scoped anyway (defence in depth).
    mine = {CustomerFactory(assigned_to=manager).pk for _ in range(3)}
    CustomerFactory(assigned_to=other_manager)
    request = rf.get("/admin/customers/customer/")
    request.user = manager

    rows = admin.site._registry[Customer].get_queryset(request)

    assert {customer.pk for customer in rows} == mine


@pytest.mark.parametrize("role", ["manager", "branch_manager", "compliance_officer"])
def test_managers_and_compliance_open_customers_in_the_app_not_the_admin(client, request, role, manager):
    customer = CustomerFactory(assigned_to=manager)
    user = request.getfixturevalue(role)

    for url in (
        reverse(CHANGELIST),
        change_url(customer),
        reverse("admin:customers_customer_history", args=[customer.pk]),
    ):
        assert admin_is_closed_to(client, user, url), url
    assert not AuditEvent.objects.filter(action="pii.revealed", customer_id=customer.pk).exists()


def test_a_missing_customer_id_is_a_404_not_a_redirect(client, administrator):
    client.force_login(administrator)

    assert client.get(reverse("admin:customers_customer_change", args=[987654])).status_code == 404


@pytest.mark.parametrize("customers", [3, 30])
def test_the_customer_changelist_queries_stay_flat(
    client, administrator, manager, customers, django_assert_max_num_queries
):
    for _ in range(customers):
        CustomerFactory(assigned_to=manager, branch=manager.branch)
    client.force_login(administrator)

    with django_assert_max_num_queries(14):
        response = client.get(reverse(CHANGELIST))

    assert len(listed(response)) == customers


def test_the_customer_changelist_never_loads_a_ciphertext(client, administrator, manager):
    CustomerFactory(assigned_to=manager, email="grace@mail.example")
    client.force_login(administrator)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST))

    sql = " ".join(query["sql"] for query in queries.captured_queries)
    for column in ("date_of_birth", "national_id", "email", "phone", "address"):
        assert f'"customers_customer"."{column}"' not in sql
    assert "g***@mail.example" in response.text
    assert "grace@mail.example" not in response.text


def test_search_by_exact_email_finds_the_customer_through_the_blind_index(client, administrator, manager):
    wanted = CustomerFactory(assigned_to=manager, email="Jane.Doe@Mail.example")
    CustomerFactory(assigned_to=manager)
    client.force_login(administrator)

    response = client.get(reverse(CHANGELIST), {"q": " jane.doe@mail.example "})

    assert listed(response) == {wanted.pk}


def test_search_by_exact_national_id_finds_the_customer(client, administrator, manager):
    wanted = CustomerFactory(assigned_to=manager, national_id="ZX 98 76 54 A")
    client.force_login(administrator)

    response = client.get(reverse(CHANGELIST), {"q": "ZX987654A"})

    assert listed(response) == {wanted.pk}


def test_opening_a_customers_change_page_records_the_pii_reveal(client, administrator, manager):
    customer = CustomerFactory(assigned_to=manager, email="reveal@mail.example")
    client.force_login(administrator)

    response = client.get(change_url(customer))

    assert response.status_code == 200
    assert "reveal@mail.example" in response.text
    reveal = AuditEvent.objects.get(action="pii.revealed", customer_id=customer.pk)
    assert reveal.actor_id == administrator.pk


def test_an_administrator_edits_a_customer_through_the_service(client, administrator, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(administrator)
    form = client.get(change_url(customer))

    response = client.post(
        change_url(customer),
        {
            **profile_data(customer, email="new.address@mail.example"),
            "primary_manager": manager.pk,
            **management_data(form),
        },
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.email == "new.address@mail.example"
    assert customer.email_hint == "n***@mail.example"
    update = AuditEvent.objects.get(action="customer.updated", customer_id=customer.pk)
    assert update.changes["email"] == ["[redacted]", "[redacted]"]


def test_saving_a_duplicate_national_id_shows_a_form_error_and_writes_nothing(client, administrator, branch, manager):
    CustomerFactory(assigned_to=manager, national_id="AB123456C")
    client.force_login(administrator)
    customers, events = Customer.objects.count(), AuditEvent.objects.count()
    data = {
        **profile_data(national_id="ab 12 34 56 c"),
        "external_id": "CB-NEW-1",
        "branch": branch.pk,
        "primary_manager": manager.pk,
        "assignment_reason": "Walk-in",
    }

    response = client.post(reverse("admin:customers_customer_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["national_id"] == [
        "Another customer already has this national id."
    ]
    assert Customer.objects.count() == customers
    assert AuditEvent.objects.count() == events


def test_an_administrator_adds_a_customer_assigned_to_a_manager(client, administrator, branch, manager):
    client.force_login(administrator)
    data = {**profile_data(), "external_id": "CB-NEW-2", "branch": branch.pk, "primary_manager": manager.pk}

    response = client.post(reverse("admin:customers_customer_add"), data)

    assert response.status_code == 302
    customer = Customer.objects.get(external_id="CB-NEW-2")
    assert customer.national_id == "AB123456C"
    assert list(visible_customers(user=manager)) == [customer]
    assert AuditEvent.objects.filter(customer_id=customer.pk, action="customer.created").count() == 1


def test_changing_the_primary_manager_in_the_form_goes_through_the_assignment(
    client, administrator, manager, other_manager
):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(administrator)
    form = client.get(change_url(customer))
    data = {
        **profile_data(customer),
        "primary_manager": other_manager.pk,
        "assignment_reason": "Manager on leave",
        **management_data(form),
    }

    response = client.post(change_url(customer), data)

    assert response.status_code == 302
    assert list(visible_customers(user=other_manager)) == [customer]
    assert list(visible_customers(user=manager)) == []
    current = CustomerAssignment.objects.get(customer=customer, ended_at__isnull=True)
    assert (current.manager, current.reason) == (other_manager, "Manager on leave")


def test_the_reassign_action_is_proposed_then_moves_customers_once_approved(
    client, administrator, manager, other_manager
):
    moving = [CustomerFactory(assigned_to=manager) for _ in range(2)]
    staying = CustomerFactory(assigned_to=manager)
    ids = [customer.pk for customer in moving]
    client.force_login(administrator)

    confirm = client.post(
        reverse(CHANGELIST), {"action": "reassign_to_manager", "_selected_action": ids, "index": 0, "select_across": 0}
    )
    assert confirm.status_code == 200
    assert confirm.templates[0].name == "admin/customers/customer/reassign.html"

    done = client.post(
        reverse(CHANGELIST),
        {
            "action": "reassign_to_manager",
            "_selected_action": ids,
            "select_across": 0,
            "apply": "Reassign",
            "manager": other_manager.pk,
            "reason": "Portfolio rebalancing",
        },
    )

    assert done.status_code == 302
    # Four eyes (apps/customers/four_eyes.py): nothing moved yet; a second administrator approves.
    assert set(visible_customers(user=manager)) == {*moving, staying}
    change = ChangeRequest.objects.get(action="customers.reassign", status="pending")
    approve_change(checker=UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="admin.two"), change=change)
    assert set(visible_customers(user=other_manager)) == set(moving)
    assert list(visible_customers(user=manager)) == [staying]
    events = AuditEvent.objects.filter(action="customer.reassigned", customer_id__in=ids, actor=administrator)
    assert events.count() == 2
    history = CustomerAssignment.objects.filter(customer__in=moving, manager=other_manager, ended_at__isnull=True)
    assert history.count() == 2
    assert CustomerAssignment.objects.filter(customer__in=moving, manager=manager, ended_at__isnull=False).count() == 2


def test_customers_cannot_be_deleted_in_the_admin(client, administrator, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(administrator)

    assert client.get(reverse("admin:customers_customer_delete", args=[customer.pk])).status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_change_page_lists_who_has_access_read_only(client, administrator, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(administrator)

    response = client.get(change_url(customer))

    assert response.status_code == 200
    assert "mployees with access" in response.text
    assert "manager.a" in response.text


@pytest.mark.parametrize("holdings", [2, 20])
def test_the_customer_change_page_queries_stay_flat(
    client, administrator, manager, holdings, django_assert_max_num_queries
):
    from tests.accounts.factories import HoldingFactory

    customer = CustomerFactory(assigned_to=manager)
    for _ in range(holdings):
        HoldingFactory(customer=customer)
    client.force_login(administrator)

    with django_assert_max_num_queries(26):
        response = client.get(change_url(customer))

    assert response.status_code == 200


def test_an_administrator_adds_an_identity_document_through_the_service(client, administrator, manager):
    from apps.customers.models import IdentityDocument

    customer = CustomerFactory(assigned_to=manager)
    client.force_login(administrator)
    data = {"document_type": "passport", "number": "P1234567", "issuing_country": "GB", "expiry_date": "2030-01-31"}

    added = client.post(reverse("admin:customers_identitydocument_add"), {**data, "customer": customer.pk})

    assert added.status_code == 302
    document = IdentityDocument.objects.get(customer=customer)
    assert (document.number, document.number_hint) == ("P1234567", "••••567")
    assert AuditEvent.objects.filter(action="document.added", customer_id=customer.pk).count() == 1
    listing = client.get(reverse("admin:customers_identitydocument_changelist"))
    assert "••••567" in listing.text
    assert "P1234567" not in listing.text
