"""Fault tests against real services: RabbitMQ, Redis, PostgreSQL, a Celery worker process,
celery beat processes and an SMTP server (aiosmtpd) on loopback.

Each test restores what it changed in `finally` (broker settings of this process, queues,
processes). Without RabbitMQ/Redis they skip, and fail under FINPULSE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import signal
import time

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.notifications.models import Channel, Kind, Notification
from apps.notifications.services import build_user_notifications, enqueue_notifications, relay_pending_notifications
from finpulse.celery import app as celery_app
from finpulse.celery import use_broker
from tests.alerts.support import TODAY, customer, deposit, deposit_product, document
from tests.notifications.realservices import (
    SmtpSink,
    broker_queue,
    free_port,
    process_env,
    queued_messages,
    start_beat,
    start_worker,
    unique_queue,
    wait_for,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def business_day(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}
    settings.FINPULSE_DOCUMENT_EXPIRY_DAYS = [30]
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {}
    settings.FINPULSE_CUSTOMER_NOTICE_CHANNELS = []
    settings.FINPULSE_NOTIFICATION_RELAY_GRACE_SECONDS = 0
    settings.FINPULSE_QUIET_HOURS = ""
    settings.FINPULSE_ALERT_DIGEST_FIRST_RUN = False  # one email per alert: what these tests count


@pytest.fixture
def restore_broker():  # type: ignore[no-untyped-def]
    try:
        yield
    finally:
        use_broker()


def _emails() -> Notification:
    return Notification.objects.filter(channel=Channel.EMAIL)


def test_broker_down_loses_nothing_and_each_email_is_delivered_once_when_it_is_back(
    rabbitmq_url, business_day, restore_broker, manager
):
    owner = customer(manager)
    product = deposit_product()
    for days in (1, 7, 30):
        deposit(owner, product, days)
    document(owner, 20)
    queue = unique_queue()
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}//"

    with SmtpSink() as sink, broker_queue(rabbitmq_url, queue) as conn:
        # The broker is unreachable while the scan raises alerts: the rows stay pending.
        use_broker(closed, queue)
        run_scans()
        assert Alert.objects.count() == 4
        assert _emails().filter(status=Notification.Status.PENDING).count() == 4

        worker = start_worker(process_env(broker_url=rabbitmq_url, queue=queue, smtp_port=sink.port), queue)
        try:
            # The broker is back: the relay hands every pending row over, and again for good measure.
            use_broker(rabbitmq_url, queue)
            assert relay_pending_notifications() == 4
            wait_for(lambda: sink.count >= 4, timeout=60, what="four emails at the SMTP server")
            relay_pending_notifications()
            run_scans()  # a second tick: nothing new
            # A message no worker can handle ends in the dead-letter queue, where admins look.
            celery_app.send_task("finpulse.no_such_task", args=[[1]], queue=queue)
            wait_for(lambda: queued_messages(conn, f"{queue}.dead") == 1, timeout=30, what="the dead letter")
            out = io.StringIO()
            call_command("dead_letters", queue=queue, stdout=out)
            time.sleep(2)
        finally:
            worker.stop()

    assert sink.count == 4
    assert len(set(sink.message_ids())) == 4
    assert _emails().filter(status=Notification.Status.SENT).count() == 4
    assert sorted(m["To"] for m in sink.messages) == [manager.email] * 4
    assert f"{queue}.dead: 1 message(s)" in out.getvalue()
    assert "finpulse.no_such_task" in out.getvalue()


def test_a_worker_killed_mid_delivery_is_redelivered_and_the_email_is_sent_once(
    rabbitmq_url, business_day, restore_broker, manager
):
    queue = unique_queue()
    with SmtpSink(hold_first=True) as sink, broker_queue(rabbitmq_url, queue):
        worker = start_worker(process_env(broker_url=rabbitmq_url, queue=queue, smtp_port=sink.port), queue)
        try:
            use_broker(rabbitmq_url, queue)
            with transaction.atomic():
                (note,) = enqueue_notifications(
                    build_user_notifications(
                        user_id=manager.pk,
                        channels_on=[Channel.EMAIL],
                        kind=Kind.MATURITY,
                        obj="accounts.holding:1",
                        threshold=7,
                        on="2026-03-02",
                        subject="Deposit matures in 7 days",
                        body="Offer a renewal.",
                        url="",
                    )
                )
            # The pool process is now inside the SMTP conversation: kill it there.
            assert sink.holding.wait(timeout=60), worker.log()[-3000:]
            children = worker.children()
            assert len(children) == 1
            import os

            os.kill(children[0], signal.SIGKILL)
            wait_for(lambda: sink.count >= 1, timeout=60, what="the redelivered email")
            time.sleep(3)
            log = worker.log()
        finally:
            worker.stop()

    note.refresh_from_db()
    assert sink.count == 1
    assert note.status == Notification.Status.SENT
    assert note.attempts == 2  # the killed attempt counted, the redelivery sent it
    assert re.search(r"WorkerLostError|exited with 'signal 9", log), log[-3000:]


def test_two_beats_send_each_scheduled_scan_once_per_period_and_the_standby_takes_over(rabbitmq_url, restore_broker):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    PeriodicTask.objects.update(enabled=False)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="test scan tick", task="alerts.run_scans", interval=every_second)
    queue = unique_queue()
    # A short lease, so the killed holder's lease expires within the wait below.
    env = process_env(broker_url=rabbitmq_url, queue=queue, FINPULSE_BEAT_LEASE_SECONDS="6")

    with broker_queue(rabbitmq_url, queue) as conn:
        beats = [start_beat(env), start_beat(env)]
        try:
            wait_for(lambda: all("Starting..." in b.log() for b in beats), timeout=60, what="both beats to start")
            wait_for(lambda: any("Sending due task" in b.log() for b in beats), timeout=60, what="a first tick")
            time.sleep(8)
            sent = [b.log().count("Sending due task test scan tick") for b in beats]
            holder, standby = (beats[0], beats[1]) if sent[0] else (beats[1], beats[0])
            # Exactly one beat sends; the other knows it is idle.
            assert min(sent) == 0, [b.log()[-2000:] for b in beats]
            assert "stays idle" in standby.log()
            published = queued_messages(conn, queue)
            # One message per 2-second period (plus the one in flight as we count).
            assert published == max(sent) or published == max(sent) + 1
            assert 3 <= max(sent) <= 8

            holder.kill()
            wait_for(
                lambda: "Sending due task test scan tick" in standby.log(), timeout=30, what="the standby to take over"
            )
        finally:
            for beat in beats:
                beat.stop()
    PeriodicTask.objects.filter(name="test scan tick").delete()


def test_with_redis_unreachable_pages_and_scans_keep_working_on_a_degraded_cache(
    redis_url, settings, client, business_day, manager
):
    """Redis is down (its URL points at a closed port): the cache degrades to misses
    (django-redis IGNORE_EXCEPTIONS), while pages and the alert scan keep working."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    deposit(customer(manager), deposit_product(), 7)

    cache.set("probe", "value")
    assert cache.get("probe") is None  # degraded: a miss, not an error
    report = run_scans()
    client.force_login(manager)

    assert report.rules["maturity"].alerts == 1
    for url in (reverse("alerts:list"), reverse("notifications:list"), reverse("notifications:bell"), "/customers/"):
        assert client.get(url).status_code == 200, url
    assert Alert.objects.filter(manager=manager).count() == 1
    assert dt.date.fromisoformat(report.business_date) == TODAY
