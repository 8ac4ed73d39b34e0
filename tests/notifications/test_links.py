"""Links in notifications: emails carry FINPULSE_SITE_URL, in-app links open on the request's host."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.alerts.scans import run_scans
from apps.notifications.models import Channel, Kind, Notification
from tests.alerts.support import TODAY, customer, deposit, deposit_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _scan_settings(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}
    settings.FINPULSE_SITE_URL = "https://crm.bank.example"
    settings.FINPULSE_ALERT_DIGEST_THRESHOLD = 100
    settings.FINPULSE_ALERT_DIGEST_FIRST_RUN = False


def test_open_and_mark_as_read_opens_the_customer_whatever_host_the_emails_name(client, manager):
    owner = customer(manager)
    deposit(owner, deposit_product(), 7)
    run_scans(only={"maturity"})
    note = Notification.objects.get(kind=Kind.MATURITY, channel=Channel.IN_APP)
    client.force_login(manager)

    listing = client.get(reverse("notifications:list")).content.decode()
    response = client.post(reverse("notifications:read", args=[note.pk]))

    assert "Open and mark as read" in listing
    assert response.status_code == 302
    assert response["Location"] == owner.get_absolute_url()
    note.refresh_from_db()
    assert note.read_at is not None


def test_the_email_links_to_the_configured_site(manager):
    owner = customer(manager)
    deposit(owner, deposit_product(), 7)
    run_scans(only={"maturity"})

    email = Notification.objects.get(kind=Kind.MATURITY, channel=Channel.EMAIL)

    assert f"https://crm.bank.example{owner.get_absolute_url()}" in email.body
    assert email.path == owner.get_absolute_url()


def test_an_older_notification_with_only_an_absolute_link_still_opens_here(client, manager):
    owner = customer(manager)
    deposit(owner, deposit_product(), 7)
    run_scans(only={"maturity"})
    note = Notification.objects.get(kind=Kind.MATURITY, channel=Channel.IN_APP)
    note.payload = {"body": "x", "url": f"http://old-name:8000{owner.get_absolute_url()}"}
    note.save(update_fields=["payload"])
    client.force_login(manager)

    response = client.post(reverse("notifications:read", args=[note.pk]))

    assert response["Location"] == owner.get_absolute_url()
