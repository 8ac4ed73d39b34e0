from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.alerts.services import acknowledge_alert, dismiss_alert, snooze_alert
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.models import AuditEvent
from tests.alerts.support import TODAY, customer, deposit, deposit_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _business_date(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}


@pytest.fixture
def alert(manager):  # type: ignore[no-untyped-def]
    deposit(customer(manager), deposit_product(), 7)
    run_scans(only={"maturity"})
    return Alert.objects.get()


def test_acknowledging_snoozing_and_dismissing_are_each_an_audit_event(manager, alert):
    acknowledge_alert(actor=manager, alert=alert, reason="Calling tomorrow")
    snooze_alert(actor=manager, alert=alert, until=TODAY + dt.timedelta(days=3), reason="Customer abroad")
    dismiss_alert(actor=manager, alert=alert, reason="Customer already renewed in branch")

    actions = list(
        AuditEvent.objects.filter(object_type="alerts.alert", object_id=str(alert.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["alert.raised", "alert.acknowledged", "alert.snoozed", "alert.dismissed"]
    alert.refresh_from_db()
    assert alert.status == Alert.Status.DISMISSED
    assert alert.status_reason == "Customer already renewed in branch"
    assert alert.handled_by == manager


def test_dismissing_needs_a_reason(manager, alert):
    with pytest.raises(DomainError, match="Say why"):
        dismiss_alert(actor=manager, alert=alert, reason="  ")


def test_a_dismissed_alert_stays_dismissed(manager, alert):
    dismiss_alert(actor=manager, alert=alert, reason="Closed")
    with pytest.raises(Conflict):
        acknowledge_alert(actor=manager, alert=alert)


def test_snoozing_into_the_past_is_refused(manager, alert):
    with pytest.raises(DomainError, match="after today"):
        snooze_alert(actor=manager, alert=alert, until=TODAY)


def test_a_snoozed_alert_reopens_on_its_date(manager, alert, settings):
    snooze_alert(actor=manager, alert=alert, until=TODAY + dt.timedelta(days=2))
    settings.FINPULSE_BUSINESS_DATE = (TODAY + dt.timedelta(days=2)).isoformat()

    run_scans(only={"snoozed"})

    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    assert AuditEvent.objects.filter(action="alert.reopened", object_id=str(alert.pk)).count() == 1


def test_compliance_reads_but_cannot_handle_alerts(compliance_officer, alert):
    with pytest.raises(PermissionDenied):
        acknowledge_alert(actor=compliance_officer, alert=alert)


def test_the_manager_sees_why_and_can_snooze_from_the_page(client, manager, alert):
    client.force_login(manager)

    page = client.get(reverse("alerts:list"))
    response = client.post(
        reverse("alerts:snooze", args=[alert.pk]), {"until": (TODAY + dt.timedelta(days=5)).isoformat(), "reason": "x"}
    )

    assert page.status_code == 200
    assert alert.reason in page.content.decode()
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.snoozed_until == TODAY + dt.timedelta(days=5)


def test_a_bad_snooze_date_is_a_message_not_a_500(client, manager, alert):
    client.force_login(manager)

    response = client.post(reverse("alerts:snooze", args=[alert.pk]), {"until": "2020-01-01"})

    assert response.status_code == 400
    assert "after today" in response.content.decode()


def test_another_managers_alert_is_a_404(client, other_manager, alert):
    client.force_login(other_manager)

    assert client.post(reverse("alerts:dismiss", args=[alert.pk]), {"reason": "x"}).status_code == 404
    assert alert.pk not in [a.pk for a in client.get(reverse("alerts:list")).context["page"]]


@pytest.mark.parametrize("size", [3, 30])
def test_the_alert_list_queries_stay_flat(client, manager, size, django_assert_max_num_queries):
    owner = customer(manager)
    product = deposit_product()
    for i in range(size):
        deposit(owner, product, 1 + i % 30)
    run_scans(only={"maturity"})
    client.force_login(manager)

    with django_assert_max_num_queries(15):
        assert client.get(reverse("alerts:list")).status_code == 200
