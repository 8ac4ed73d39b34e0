"""Holdings admin: rows through the holdings selector, numbers masked, writes through services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.models import Holding
from apps.core.models import AuditEvent
from tests.accounts.factories import HoldingFactory
from tests.admin_support import admin_is_closed_to, admin_ready, management_data  # noqa: F401
from tests.customers.factories import CustomerFactory
from tests.products.factories import ProductFactory

CHANGELIST = "admin:accounts_holding_changelist"


def change_url(holding: Holding) -> str:
    return reverse("admin:accounts_holding_change", args=[holding.pk])


def test_managers_read_holdings_on_the_customer_page_not_in_the_admin(client, manager):
    mine = HoldingFactory(customer=CustomerFactory(assigned_to=manager))

    assert admin_is_closed_to(client, manager, reverse(CHANGELIST))
    assert admin_is_closed_to(client, manager, change_url(mine))


def test_the_holding_list_shows_the_number_masked(client, administrator, manager):
    holding = HoldingFactory(customer=CustomerFactory(assigned_to=manager), number="GB29NWBK60161331926819")
    client.force_login(administrator)

    response = client.get(reverse(CHANGELIST))

    assert "••••6819" in response.text
    assert "GB29NWBK60161331926819" not in response.text
    assert client.get(change_url(holding)).text.count("GB29NWBK60161331926819") == 0


@pytest.mark.parametrize("holdings", [3, 30])
def test_the_holding_changelist_queries_stay_flat(
    client, administrator, manager, holdings, django_assert_max_num_queries
):
    customer = CustomerFactory(assigned_to=manager)
    for _ in range(holdings):
        HoldingFactory(customer=customer)
    client.force_login(administrator)

    with django_assert_max_num_queries(13):
        response = client.get(reverse(CHANGELIST))

    assert len(response.context["cl"].result_list) == holdings


def test_an_administrator_changes_a_holdings_terms_through_the_service(client, administrator, manager):
    holding = HoldingFactory(customer=CustomerFactory(assigned_to=manager))
    client.force_login(administrator)
    form = client.get(change_url(holding))
    data = {
        "currency": "GBP",
        "balance": "2500.00",
        "credit_limit": "",
        "rate": "",
        "maturity_date": "",
        "maturity_instruction": "",
        "status": "active",
        **management_data(form),
    }

    response = client.post(change_url(holding), data)

    assert response.status_code == 302
    holding.refresh_from_db()
    assert holding.balance == Decimal("2500.00")
    assert AuditEvent.objects.filter(action="holding.updated", object_id=str(holding.pk)).count() == 1


def test_an_invalid_change_is_a_form_error_not_a_500(client, administrator, manager):
    holding = HoldingFactory(customer=CustomerFactory(assigned_to=manager), category="savings_account")
    client.force_login(administrator)
    form = client.get(change_url(holding))
    data = {"currency": "GBP", "balance": "-5", "status": "active", **management_data(form)}

    response = client.post(change_url(holding), data)

    assert response.status_code == 200
    assert "cannot be negative" in response.text
    holding.refresh_from_db()
    assert holding.balance == Decimal("1500.00")


def test_an_administrator_opens_a_holding_with_its_parties(client, administrator, manager):
    customer = CustomerFactory(assigned_to=manager)
    product = ProductFactory(category="deposit")
    client.force_login(administrator)
    form = client.get(reverse("admin:accounts_holding_add"))
    prefix = form.context["inline_admin_formsets"][0].formset.prefix
    data = {
        **management_data(form),
        "external_id": "HLD-ADMIN-1",
        "product": product.pk,
        "category": "savings_account",
        "number": "GB82WEST12345698765432",
        "opened_on": "2025-06-01",
        "currency": "GBP",
        "balance": "100.00",
        "status": "active",
        f"{prefix}-0-customer": customer.pk,
        f"{prefix}-0-role": "owner",
    }

    response = client.post(reverse("admin:accounts_holding_add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    holding = Holding.objects.get(external_id="HLD-ADMIN-1")
    assert holding.number == "GB82WEST12345698765432"
    assert list(holding.customers.all()) == [customer]
    assert AuditEvent.objects.filter(action="holding.opened", customer_id=customer.pk).count() == 1


def test_a_holding_cannot_be_deleted_in_the_admin(client, administrator, manager):
    holding = HoldingFactory(customer=CustomerFactory(assigned_to=manager))
    client.force_login(administrator)

    assert client.get(reverse("admin:accounts_holding_delete", args=[holding.pk])).status_code == 403


def test_the_customer_page_links_to_their_holdings_listed_masked(client, administrator, manager):
    customer = CustomerFactory(assigned_to=manager)
    HoldingFactory(customer=customer, number="GB29NWBK60161331926819", external_id="HOLD-OF-THIS-ONE")
    HoldingFactory(customer=CustomerFactory(assigned_to=manager), external_id="HOLD-OF-ANOTHER")
    client.force_login(administrator)

    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    link = f"{reverse('admin:accounts_holding_changelist')}?parties__customer__id__exact={customer.pk}"
    holdings = client.get(link)

    assert link in page.text
    assert holdings.status_code == 200
    assert "HOLD-OF-THIS-ONE" in holdings.text and "HOLD-OF-ANOTHER" not in holdings.text
    assert "••••6819" in holdings.text
    assert "GB29NWBK60161331926819" not in page.text + holdings.text
