from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.customers.models import CustomerConsent
from apps.customers.services import record_consent
from apps.notifications.models import Channel, Kind, Notification
from apps.notifications.services import (
    build_customer_notifications,
    build_user_notifications,
    deliver_notification,
    end_of_quiet_hours,
    enqueue_notifications,
)
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_QUIET_HOURS = ""
    settings.FINPULSE_NOTIFICATION_MAX_ATTEMPTS = 3
    settings.FINPULSE_SMS_BACKEND = "apps.notifications.channels.ConsoleSmsBackend"


def _to_customer(customer, channel=Channel.EMAIL, on="2026-03-02"):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        rows = build_customer_notifications(
            customer_id=customer.pk,
            channels_on=[channel],
            kind=Kind.CUSTOMER_MATURITY_NOTICE,
            obj="accounts.holding:1",
            threshold=7,
            on=on,
            subject="Your deposit matures on 9 Mar 2026",
            body="Your deposit matures soon.",
        )
        return enqueue_notifications(rows)[0]


def _to_user(user, channel=Channel.EMAIL, obj="accounts.holding:1"):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        rows = build_user_notifications(
            user_id=user.pk,
            channels_on=[channel],
            kind=Kind.MATURITY,
            obj=obj,
            threshold=7,
            on="2026-03-02",
            subject="Deposit matures in 7 days",
            body="Renewal offer due.",
            url="http://testserver/customers/1/",
        )
        return enqueue_notifications(rows)[0]


def test_a_notice_to_a_customer_without_consent_is_never_sent_and_the_reason_is_recorded(manager):
    customer = CustomerFactory(assigned_to=manager)
    record_consent(actor=None, customer=customer, channel="email", purpose="marketing", granted=True)
    notification = _to_customer(customer)

    outcome = deliver_notification(notification_id=notification.pk)

    notification.refresh_from_db()
    assert outcome == "skipped"
    assert mail.outbox == []
    assert notification.status == Notification.Status.SKIPPED
    assert notification.skip_reason == "No recorded consent for service notices by Email."
    assert AuditEvent.objects.filter(action="notification.skipped", customer_id=customer.pk).exists()


def test_consent_is_checked_at_send_time_not_when_the_notice_was_written(manager):
    customer = CustomerFactory(assigned_to=manager)
    record_consent(actor=None, customer=customer, channel="sms", purpose="service", granted=True)
    notification = _to_customer(customer, channel=Channel.SMS)
    record_consent(actor=None, customer=customer, channel="sms", purpose="service", granted=False)

    assert deliver_notification(notification_id=notification.pk) == "skipped"


def test_a_notice_with_consent_is_sent_once_to_the_decrypted_address(manager):
    customer = CustomerFactory(assigned_to=manager, email="jane@mail.example")
    record_consent(actor=None, customer=customer, channel="email", purpose="service", granted=True)
    notification = _to_customer(customer)

    assert deliver_notification(notification_id=notification.pk) == "sent"
    assert deliver_notification(notification_id=notification.pk) == "already sent"

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["jane@mail.example"]
    assert "jane@" not in json.dumps(Notification.objects.get(pk=notification.pk).payload)
    assert AuditEvent.objects.filter(action="notification.sent", customer_id=customer.pk).count() == 1


def test_a_notice_in_quiet_hours_waits_for_the_morning(manager, settings):
    settings.FINPULSE_QUIET_HOURS = "00:00-23:59"
    customer = CustomerFactory(assigned_to=manager)
    record_consent(actor=None, customer=customer, channel="email", purpose="service", granted=True)
    notification = _to_customer(customer)

    assert deliver_notification(notification_id=notification.pk) == "deferred"

    notification.refresh_from_db()
    assert mail.outbox == []
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 0
    assert timezone.localtime(notification.next_attempt_at).time() == dt.time(23, 59)


def test_quiet_hours_spanning_midnight_end_the_next_morning(settings):
    settings.FINPULSE_QUIET_HOURS = "21:00-08:00"
    tz = timezone.get_current_timezone()
    late = timezone.make_aware(dt.datetime(2026, 3, 2, 22, 30), tz)
    early = timezone.make_aware(dt.datetime(2026, 3, 3, 6, 0), tz)
    noon = timezone.make_aware(dt.datetime(2026, 3, 3, 12, 0), tz)

    assert end_of_quiet_hours(late) == timezone.make_aware(dt.datetime(2026, 3, 3, 8, 0), tz)
    assert end_of_quiet_hours(early) == timezone.make_aware(dt.datetime(2026, 3, 3, 8, 0), tz)
    assert end_of_quiet_hours(noon) is None


def test_the_same_cause_written_twice_is_one_row(manager):
    first = _to_user(manager)
    with transaction.atomic():
        again = enqueue_notifications(
            build_user_notifications(
                user_id=manager.pk,
                channels_on=[Channel.EMAIL],
                kind=Kind.MATURITY,
                obj="accounts.holding:1",
                threshold=7,
                on="2026-03-02",
                subject="x",
                body="y",
                url="",
            )
        )

    assert again == []
    assert Notification.objects.filter(dedupe_key=first.dedupe_key).count() == 1


@pytest.mark.django_db(transaction=True)
def test_outbox_rows_are_written_only_inside_the_causes_transaction(manager):
    rows = build_user_notifications(
        user_id=manager.pk,
        channels_on=[Channel.EMAIL],
        kind=Kind.MATURITY,
        obj="x",
        threshold=1,
        on="d",
        subject="s",
        body="b",
        url="",
    )
    with pytest.raises(RuntimeError):
        enqueue_notifications(rows)


def test_in_app_notifications_are_delivered_by_being_written(manager):
    notification = _to_user(manager, channel=Channel.IN_APP)

    assert notification.status == Notification.Status.SENT
    assert notification.read_at is None


def test_an_employee_email_is_sent_with_a_message_id_from_the_dedupe_key(manager):
    notification = _to_user(manager)

    assert deliver_notification(notification_id=notification.pk) == "sent"

    assert mail.outbox[0].to == [manager.email]
    assert mail.outbox[0].extra_headers["Message-ID"].endswith("@finpulse.notifications>")


def test_a_transient_failure_is_retried_later_and_fails_for_good_after_the_last_attempt(manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens
    notification = _to_user(manager)

    outcomes = [deliver_notification(notification_id=notification.pk) for _ in range(4)]

    notification.refresh_from_db()
    assert outcomes == ["retry", "retry", "failed", "already failed"]
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == 3
    assert "could not be reached" in notification.last_error


def test_a_message_whose_worker_keeps_dying_ends_failed_at_the_delivery_limit(manager):
    notification = _to_user(manager)
    # Three claims that never finished: the worker was killed each time.
    Notification.objects.filter(pk=notification.pk).update(attempts=3)

    assert deliver_notification(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert "worker stopped" in notification.last_error
    assert mail.outbox == []


class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sms_gateway(settings):  # type: ignore[no-untyped-def]
    _Gateway.received, _Gateway.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.FINPULSE_SMS_BACKEND = "apps.notifications.channels.HttpSmsGatewayBackend"
    settings.FINPULSE_SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    try:
        yield _Gateway
    finally:
        server.shutdown()
        server.server_close()


def test_sms_goes_to_the_http_gateway_with_an_idempotency_key(manager, sms_gateway):
    manager.phone = "+44 7700 900123"
    manager.save(update_fields=["phone"])
    notification = _to_user(manager, channel=Channel.SMS)

    assert deliver_notification(notification_id=notification.pk) == "sent"

    headers, body = sms_gateway.received[0]
    assert body["to"] == "+44 7700 900123"
    assert body["text"] == "Deposit matures in 7 days"
    assert headers["Idempotency-Key"] == body["reference"]


def test_a_gateway_rejection_fails_at_once_and_keeps_numbers_out_of_the_error(manager, sms_gateway):
    sms_gateway.status = 400
    manager.phone = "+44 7700 900123"
    manager.save(update_fields=["phone"])
    notification = _to_user(manager, channel=Channel.SMS)

    assert deliver_notification(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.last_error == "The SMS gateway rejected the message (400)."


def test_no_mobile_number_means_skipped_with_the_reason(manager):
    notification = _to_user(manager, channel=Channel.SMS)

    assert deliver_notification(notification_id=notification.pk) == "skipped"
    notification.refresh_from_db()
    assert notification.skip_reason == "No mobile number on file."


def test_consent_rows_are_per_channel_and_purpose(manager):
    customer = CustomerFactory(assigned_to=manager)
    record_consent(actor=None, customer=customer, channel="email", purpose="service", granted=True)

    notification = _to_customer(customer, channel=Channel.SMS)

    assert deliver_notification(notification_id=notification.pk) == "skipped"
    assert CustomerConsent.objects.filter(customer=customer).count() == 1
