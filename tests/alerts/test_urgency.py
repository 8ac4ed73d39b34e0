"""The alert list puts the most urgent first (days left, then amount), filters, and counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.alerts.services import acknowledge_alert
from tests.alerts.support import TODAY, customer, deposit, deposit_product, document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _business_date(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}
    settings.FINPULSE_DOCUMENT_EXPIRY_DAYS = [60, 30]
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {}


def _listed(client, **params):  # type: ignore[no-untyped-def]
    response = client.get(reverse("alerts:list"), params)
    assert response.status_code == 200
    return response, list(response.context["page"])


def test_a_deposit_maturing_today_heads_the_first_page_of_a_long_list(client, manager):
    product = deposit_product()
    owner = customer(manager)
    for days in range(1, 30):
        deposit(owner, product, days)
    today = deposit(owner, product, 0)
    run_scans(only={"maturity"})
    client.force_login(manager)

    response, alerts = _listed(client)

    assert alerts[0].object_id == today.pk
    assert [a.due_on for a in alerts] == sorted(a.due_on for a in alerts)
    assert response.context["page"].paginator.count == 30
    assert "30 alerts, most urgent first" in response.content.decode()
    assert "due today" in response.content.decode()


def test_alerts_due_the_same_day_put_the_larger_amount_first(client, manager):
    product = deposit_product()
    small = deposit(customer(manager), product, 7, balance=Decimal("1000.00"))
    large = deposit(customer(manager), product, 7, balance=Decimal("900000.00"))
    later = deposit(customer(manager), product, 9, balance=Decimal("5000000.00"))
    run_scans(only={"maturity"})
    client.force_login(manager)

    _, alerts = _listed(client)

    assert [a.object_id for a in alerts] == [large.pk, small.pk, later.pk]
    assert alerts[0].amount == Decimal("900000.00")


def test_the_list_filters_by_rule_customer_and_state(client, manager):
    product = deposit_product()
    alice = customer(manager, first_name="Alice", last_name="Lowther")
    bob = customer(manager, first_name="Bob", last_name="Marsh")
    deposit(alice, product, 3)
    deposit(bob, product, 4)
    document(alice, 20)
    run_scans(only={"maturity", "document_expiry"})
    acknowledge_alert(actor=manager, alert=Alert.objects.get(customer=bob), reason="Called")
    client.force_login(manager)

    _, by_rule = _listed(client, rule=Alert.Rule.DOCUMENT_EXPIRY)
    _, by_name = _listed(client, customer="lowther")
    _, by_number = _listed(client, customer=bob.external_id.upper())
    _, acknowledged = _listed(client, status=Alert.Status.ACKNOWLEDGED)

    assert [a.rule for a in by_rule] == [Alert.Rule.DOCUMENT_EXPIRY]
    assert {a.customer_id for a in by_name} == {alice.pk} and len(by_name) == 2
    assert [a.customer_id for a in by_number] == [bob.pk]
    assert [a.customer_id for a in acknowledged] == [bob.pk]


def test_the_pager_keeps_the_filters(client, manager):
    product = deposit_product()
    owner = customer(manager)
    for days in range(0, 30):
        deposit(owner, product, days)
    run_scans(only={"maturity"})
    client.force_login(manager)

    response, alerts = _listed(client, rule=Alert.Rule.MATURITY)

    assert len(alerts) == 25
    assert "?rule=maturity&amp;page=2" in response.content.decode()
    _, second = _listed(client, rule=Alert.Rule.MATURITY, page=2)
    assert len(second) == 5


def test_past_due_alerts_come_first_most_overdue_first_and_are_marked_overdue(client, manager):
    # Decision 61: a banker works what is already late before what falls due today.
    for weeks in (1, 3, 2):
        customer(manager, kyc_review_date=TODAY - dt.timedelta(weeks=weeks))
    today = deposit(customer(manager), deposit_product(), 0)
    tomorrow = deposit(customer(manager), deposit_product(), 1)
    run_scans(only={"maturity", "kyc_review"})
    client.force_login(manager)

    response, alerts = _listed(client)

    assert [a.rule for a in alerts[:3]] == [Alert.Rule.KYC_REVIEW] * 3
    assert [a.due_on for a in alerts[:3]] == sorted(a.due_on for a in alerts[:3])
    assert [a.object_id for a in alerts[3:]] == [today.pk, tomorrow.pk]
    body = response.content.decode()
    assert body.count('class="badge badge--overdue">Overdue</span>') == 3
    assert "overdue by 21 days" in body and "overdue by 7 days" in body


def test_the_pager_numbers_its_pages_and_keeps_the_filters(client, manager):
    product = deposit_product()
    owner = customer(manager)
    for days in range(0, 30):
        deposit(owner, product, days)
        deposit(owner, product, days)
    run_scans(only={"maturity"})
    client.force_login(manager)

    response, _ = _listed(client, rule=Alert.Rule.MATURITY, page=2)

    body = response.content.decode()
    assert '<span aria-current="page">2</span>' in body
    assert 'href="?rule=maturity&amp;page=1" aria-label="Page 1"' in body
    assert 'href="?rule=maturity&amp;page=3" aria-label="Page 3"' in body
    assert "Page 2 of 3" in body
