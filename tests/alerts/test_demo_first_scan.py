"""The demo's first morning: the first scan over the real demo seed is calm.

Seeding the whole demo book takes a while, so one test seeds it and checks everything.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.db.models import Count

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.customers.models import Customer
from apps.demo.seed import seed_demo
from apps.notifications.models import Kind, Notification

TODAY = dt.date(2026, 3, 2)
ALERT_KINDS = [Kind.MATURITY, Kind.DOCUMENT_EXPIRY, Kind.KYC_REVIEW, Kind.RELATIONSHIP, Kind.TASK_ESCALATION]


@pytest.mark.django_db
def test_the_demos_first_scan_sends_at_most_one_digest_per_manager_per_channel(settings):
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    seed_demo(today=TODAY)

    report = run_scans()

    assert report.first_run and report.total("alerts") > 0
    per_channel = Notification.objects.filter(kind=Kind.ALERT_DIGEST).values("recipient_user", "channel")
    assert max(row["n"] for row in per_channel.annotate(n=Count("pk"))) == 1
    assert not Notification.objects.filter(kind__in=ALERT_KINDS).exists()
    # Nothing else reaches a manager one by one: follow-up messages are counted in the digest.
    # (A calendar invitation is one email per person by nature: the demo's meetings send theirs.)
    employees = Notification.objects.filter(recipient_user__isnull=False).exclude(
        kind__in=[Kind.ALERT_DIGEST, Kind.MEETING_INVITATION]
    )
    assert not employees.exclude(status=Notification.Status.SKIPPED).exists()
    assert set(Alert.objects.values_list("manager", flat=True)) == set(
        per_channel.values_list("recipient_user", flat=True)
    )
    # The demo's past conversations keep the cadence rule to the few customers really overdue.
    cadence = django_settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS
    watched = Customer.objects.filter(segment__in=list(cadence), status=Customer.Status.ACTIVE).count()
    overdue = Alert.objects.filter(rule=Alert.Rule.RELATIONSHIP).count()
    assert watched > 20
    assert 0 < overdue <= watched * 0.2
