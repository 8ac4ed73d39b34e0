"""Opening an opportunity from a maturity alert, from accepted advice, from a converted lead, and
from the customer list's ticked rows: each through the services, audited, scoped to the book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.core.models import AuditEvent
from apps.customers.models import Customer
from apps.leads.models import Lead
from apps.leads.services import NewCustomerDetails
from apps.opportunities.models import Opportunity
from apps.opportunities.services import convert_lead_with_opportunity
from apps.recommendations.services import record_feedback
from tests.alerts.support import TODAY, deposit, deposit_product
from tests.customers.factories import CustomerFactory
from tests.leads.factories import lead_in_state
from tests.opportunities.factories import default_stages, opportunity
from tests.products.factories import ProductFactory
from tests.recommendations.factories import advice_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def maturity_alert(manager):  # type: ignore[no-untyped-def]
    default_stages()
    customer = CustomerFactory(assigned_to=manager)
    product = deposit_product()
    with override_settings(FINPULSE_BUSINESS_DATE=TODAY.isoformat(), FINPULSE_MATURITY_THRESHOLDS={"deposit": [7]}):
        holding = deposit(customer, product, 7, balance=Decimal("40000.00"))
        run_scans(only={"maturity"})
    return Alert.objects.get(customer=customer), holding


def test_a_maturity_alert_starts_the_form_with_its_renewal(client, manager, maturity_alert):
    alert, holding = maturity_alert
    client.force_login(manager)
    url = reverse("opportunities:from_alert", args=[alert.pk])

    page = client.get(url)
    form = page.context["form"]

    assert page.status_code == 200
    assert form.initial["product"] == holding.product_id
    assert form.initial["amount"] == Decimal("40000.00")
    assert form.initial["expected_close"] == holding.maturity_date


def test_an_alert_opens_one_opportunity_recorded_with_its_source(client, manager, maturity_alert):
    alert, holding = maturity_alert
    client.force_login(manager)
    url = reverse("opportunities:from_alert", args=[alert.pk])
    body = {
        "product": holding.product_id,
        "amount": "40000.00",
        "currency": "GBP",
        "expected_close": holding.maturity_date.isoformat(),
    }

    first = client.post(url, body)
    again = client.post(url, body)

    made = Opportunity.objects.get()
    assert first["Location"] == made.get_absolute_url()
    assert (made.source, made.source_object, made.customer_id) == ("maturity", f"alert:{alert.pk}", alert.customer_id)
    assert again.status_code == 200 and "An open opportunity already follows this up." in again.text
    assert Opportunity.objects.count() == 1


def test_advice_opens_an_opportunity_only_for_an_accepted_product(client, manager):
    default_stages()
    advice = advice_for(manager)
    product_id = advice.items[0]["product_id"]
    client.force_login(manager)
    url = reverse("opportunities:from_advice", args=[advice.pk, product_id])

    before = client.get(url)
    record_feedback(actor=manager, recommendation=advice, product_id=product_id, decision="accepted")
    after = client.get(url)

    assert before.status_code == 404
    assert after.status_code == 200 and after.context["form"].initial["product"] == product_id


def test_a_lead_converts_into_a_customer_and_an_opportunity_together(manager, branch):
    default_stages()
    lead = lead_in_state(Lead.State.ASSIGNED, branch=branch, assignee=manager)
    waiting = opportunity(lead=lead)

    made = convert_lead_with_opportunity(
        actor=manager,
        lead=lead,
        details=NewCustomerDetails(first_name="Ada", last_name="Byron", risk_profile=3),
        product=ProductFactory(),
        amount="12000",
        currency="GBP",
        expected_close=dt.date(2026, 9, 30),
    )

    lead.refresh_from_db()
    waiting.refresh_from_db()
    assert lead.state == Lead.State.CONVERTED and made.customer == lead.customer
    assert (made.owner, made.source, made.source_object) == (manager, "lead", f"lead:{lead.pk}")
    assert (waiting.customer, waiting.lead) == (lead.customer, None)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"lead.converted", "customer.created", "opportunity.created", "opportunity.moved_to_customer"} <= actions


def test_a_refused_opportunity_leaves_the_lead_unconverted_and_no_customer(client, manager, branch):
    default_stages()
    lead = lead_in_state(Lead.State.ASSIGNED, branch=branch, assignee=manager)
    customers = Customer.objects.count()
    client.force_login(manager)

    response = client.post(
        reverse("opportunities:from_lead", args=[lead.pk]),
        {
            "first_name": "Ada",
            "last_name": "Byron",
            "risk_profile": "3",
            "product": ProductFactory(is_active=False).pk,  # withdrawn: refused by the form
            "amount": "12000",
            "currency": "GBP",
            "expected_close": "2026-09-30",
        },
    )
    # The service refuses after the conversion ran (an open opportunity already follows the
    # lead up): the conversion and the new customer roll back with it.
    opportunity(owner=manager, source="lead", source_object=f"lead:{lead.pk}")
    refused_by_service = client.post(
        reverse("opportunities:from_lead", args=[lead.pk]),
        {
            "first_name": "Ada",
            "last_name": "Byron",
            "risk_profile": "3",
            "product": ProductFactory().pk,
            "amount": "12000",
            "currency": "GBP",
            "expected_close": "2026-09-30",
        },
    )

    assert response.status_code == 200 and refused_by_service.status_code == 200
    lead.refresh_from_db()
    assert lead.state == Lead.State.ASSIGNED
    assert "An open opportunity already follows this up." in refused_by_service.text
    assert Customer.objects.count() == customers + 1  # the blocking opportunity's own customer
    assert Opportunity.objects.count() == 1


def test_the_conversion_page_converts_and_opens(client, manager, branch):
    default_stages()
    lead = lead_in_state(Lead.State.ASSIGNED, branch=branch, assignee=manager)
    client.force_login(manager)

    response = client.post(
        reverse("opportunities:from_lead", args=[lead.pk]),
        {
            "first_name": "Ada",
            "last_name": "Byron",
            "risk_profile": "3",
            "product": ProductFactory().pk,
            "amount": "12000",
            "currency": "GBP",
            "expected_close": "2026-09-30",
        },
    )

    made = Opportunity.objects.get()
    assert response["Location"] == made.get_absolute_url()
    assert made.customer.leads.get() == lead


def test_the_customer_lists_bulk_action_opens_opportunities(client, manager, other_manager):
    default_stages()
    mine = [CustomerFactory(assigned_to=manager) for _ in range(2)]
    theirs = CustomerFactory(assigned_to=other_manager)
    product = ProductFactory()
    client.force_login(manager)
    body = {
        "action": "opportunity",
        "product": product.pk,
        "amount": "5000",
        "currency": "GBP",
        "expected_close": "2026-12-31",
    }

    refused = client.post(reverse("workspace:bulk_action"), {**body, "customer": [mine[0].pk, theirs.pk]})
    assert not Opportunity.objects.exists()
    done = client.post(reverse("workspace:bulk_action"), {**body, "customer": [c.pk for c in mine]})

    assert refused.status_code == done.status_code == 302
    assert sorted(Opportunity.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in mine)


def test_the_bulk_action_without_its_figures_says_what_is_missing(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(
        reverse("workspace:bulk_action"), {"action": "opportunity", "customer": [customer.pk]}, follow=True
    )

    text = response.content.decode()
    assert "Choose the product." in text and "Give the amount." in text
    assert not Opportunity.objects.exists()
