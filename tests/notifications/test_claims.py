"""Claim-then-send (issue #16, 10): the claim commits before the send, the result after it,
and a claim whose lease ran out is never re-sent blindly."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.notifications.models import Channel, Kind, Notification
from apps.notifications.services import (
    build_user_notifications,
    deliver_notification,
    enqueue_notifications,
    relay_pending_notifications,
    retry_notifications,
    settle_expired_claims,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_QUIET_HOURS = ""
    settings.FINPULSE_NOTIFICATION_MAX_ATTEMPTS = 3
    settings.FINPULSE_SMS_BACKEND = "apps.notifications.channels.ConsoleSmsBackend"
    settings.FINPULSE_NOTIFICATION_RELAY_GRACE_SECONDS = 0


def _to_user(user, channel=Channel.EMAIL):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        rows = build_user_notifications(
            user_id=user.pk,
            channels_on=[channel],
            kind=Kind.MATURITY,
            obj="accounts.holding:1",
            threshold=7,
            on="2026-03-02",
            subject="Deposit matures in 7 days",
            body="Renewal offer due.",
            url="",
        )
        return enqueue_notifications(rows)[0]


def _abandoned_claim(notification: Notification) -> None:
    """What a worker that died between claiming and recording leaves behind."""
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENDING,
        attempts=1,
        claim_token="00000000-0000-0000-0000-000000000001",
        message_id="<abandoned@finpulse.notifications>",
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1),
    )


def test_a_sent_email_carries_the_message_id_stored_on_its_row(manager):
    notification = _to_user(manager)

    assert deliver_notification(notification_id=notification.pk) == "sent"

    notification.refresh_from_db()
    assert notification.message_id.endswith("@finpulse.notifications>")
    assert mail.outbox[0].extra_headers["Message-ID"] == notification.message_id
    assert notification.lease_expires_at is None


def test_a_claimed_row_whose_lease_has_not_expired_is_left_to_its_worker(manager):
    notification = _to_user(manager)
    _abandoned_claim(notification)
    Notification.objects.filter(pk=notification.pk).update(lease_expires_at=timezone.now() + dt.timedelta(minutes=5))

    assert deliver_notification(notification_id=notification.pk) == "in flight"
    assert relay_pending_notifications() == 0
    assert mail.outbox == []


def test_an_email_whose_claim_expired_is_outcome_unknown_not_resent(manager):
    notification = _to_user(manager)
    _abandoned_claim(notification)

    relay_pending_notifications()
    outcome = deliver_notification(notification_id=notification.pk)

    notification.refresh_from_db()
    assert outcome == "already unknown"
    assert notification.status == Notification.Status.UNKNOWN
    assert mail.outbox == []
    assert AuditEvent.objects.filter(action="notification.outcome_unknown", object_id=str(notification.pk)).count() == 1


def test_an_sms_whose_claim_expired_is_resent_with_the_same_key(manager):
    manager.phone = "+44 20 7946 0000"
    manager.save(update_fields=["phone"])
    notification = _to_user(manager, channel=Channel.SMS)
    _abandoned_claim(notification)

    assert settle_expired_claims() == {"resent": 1, "unknown": 0}
    assert deliver_notification(notification_id=notification.pk) == "sent"

    notification.refresh_from_db()
    assert notification.message_id == "<abandoned@finpulse.notifications>"
    assert notification.attempts == 2


def test_an_administrator_resends_an_unknown_outcome_once_with_the_same_message_id(manager, administrator):
    notification = _to_user(manager)
    _abandoned_claim(notification)
    settle_expired_claims()

    assert retry_notifications(actor=administrator, notification_ids=[notification.pk]) == 1
    assert deliver_notification(notification_id=notification.pk) == "sent"

    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == ["<abandoned@finpulse.notifications>"]


def test_administrators_filter_the_outbox_by_outcome_unknown(client, administrator, manager):
    unknown, sent = _to_user(manager), _to_user(manager, channel=Channel.SMS)
    _abandoned_claim(unknown)
    settle_expired_claims()
    deliver_notification(notification_id=sent.pk)
    client.force_login(administrator)

    response = client.get(reverse("admin:notifications_notification_changelist"), {"status__exact": "unknown"})

    assert response.status_code == 200
    assert "Outcome unknown" in response.content.decode()
    assert response.context["cl"].result_count == 1


def test_an_unknown_outcome_is_counted_on_the_metrics_endpoint(client, manager, settings):
    settings.FINPULSE_METRICS_TOKEN = ""
    notification = _to_user(manager)
    _abandoned_claim(notification)
    settle_expired_claims()
    client.force_login(manager)

    text = client.get("/metrics").content.decode()

    assert "finpulse_outbox_outcome_unknown 1.0" in text


def test_each_administrator_sees_an_unknown_outcome_in_the_bell_once(client, administrator, manager):
    notification = _to_user(manager)
    _abandoned_claim(notification)

    settle_expired_claims()
    # Settled again (a second sweeper, the same attempt): nothing new in the bell.
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENDING, lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    settle_expired_claims()

    told = Notification.objects.filter(kind=Kind.DELIVERY_UNKNOWN)
    assert [(n.recipient_user_id, n.channel, n.status) for n in told] == [
        (administrator.pk, Channel.IN_APP, Notification.Status.SENT)
    ]
    assert str(notification.pk) in told.get().subject
    assert mail.outbox == []  # the bell only: no email about an email
    client.force_login(administrator)
    bell = client.get(reverse("notifications:bell")).content.decode()
    assert f"notification #{notification.pk}" in bell
    client.force_login(manager)
    assert f"notification #{notification.pk}" not in client.get(reverse("notifications:bell")).content.decode()


def test_an_unknown_outcome_after_an_administrators_retry_is_reported_again(administrator, manager):
    notification = _to_user(manager)
    _abandoned_claim(notification)
    settle_expired_claims()
    retry_notifications(actor=administrator, notification_ids=[notification.pk])
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENDING, attempts=2, lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    assert settle_expired_claims() == {"resent": 0, "unknown": 1}

    assert Notification.objects.filter(kind=Kind.DELIVERY_UNKNOWN, recipient_user=administrator).count() == 2
