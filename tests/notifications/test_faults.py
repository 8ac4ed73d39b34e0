"""Fault tests against real services: RabbitMQ, Redis, PostgreSQL, a Celery worker process,
celery beat processes and an SMTP server (aiosmtpd) on loopback.

Each test restores what it changed in `finally` (broker settings of this process, queues,
processes). Without RabbitMQ/Redis they skip, and fail under FINPULSE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import threading
import time
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from apps.alerts.models import Alert
from apps.alerts.scans import run_scans
from apps.notifications.models import Channel, Kind, Notification
from apps.notifications.services import (
    build_user_notifications,
    enqueue_notifications,
    relay_pending_notifications,
    retry_notifications,
)
from finpulse.celery import app as celery_app
from finpulse.celery import use_broker
from tests.alerts.support import TODAY, customer, deposit, deposit_product, document
from tests.conftest import database_url_for_processes
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


def _batch(manager, count: int, prefix: str = "accounts.holding") -> list[Notification]:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return enqueue_notifications(
            [
                row
                for index in range(count)
                for row in build_user_notifications(
                    user_id=manager.pk,
                    channels_on=[Channel.EMAIL],
                    kind=Kind.MATURITY,
                    obj=f"{prefix}:{index}",
                    threshold=7,
                    on="2026-03-02",
                    subject=f"Deposit {index} matures in 7 days",
                    body="Offer a renewal.",
                    url="",
                )
            ]
        )


def test_a_worker_killed_mid_send_leaves_an_unknown_outcome_not_a_blind_resend(
    rabbitmq_url, business_day, restore_broker, manager, administrator
):
    queue = unique_queue()
    env = process_env(broker_url=rabbitmq_url, queue=queue, FINPULSE_NOTIFICATION_LEASE_SECONDS="3")
    with SmtpSink(hold_first=True) as sink, broker_queue(rabbitmq_url, queue):
        worker = start_worker({**env, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}, queue)
        try:
            use_broker(rabbitmq_url, queue)
            (note,) = _batch(manager, 1)
            # The pool process is now inside the SMTP conversation.
            assert sink.holding.wait(timeout=60), worker.log()[-3000:]
            # The claim is committed and no lock is held across the network call.
            with transaction.atomic():
                claimed = Notification.objects.select_for_update(nowait=True).get(pk=note.pk)
            assert claimed.status == Notification.Status.SENDING
            assert claimed.message_id
            children = worker.children()
            assert len(children) == 1
            os.kill(children[0], signal.SIGKILL)
            # Celery redelivers the message: the row's claim is still leased, nothing is sent.
            wait_for(lambda: "WorkerLostError" in worker.log() or "signal 9" in worker.log(), timeout=30, what="loss")
            time.sleep(4)  # the lease (3 s) runs out
            relay_pending_notifications()
            time.sleep(2)
            note.refresh_from_db()
            assert note.status == Notification.Status.UNKNOWN
            assert sink.count == 0
            # An administrator checked: the message never arrived. The re-send keeps its Message-ID.
            retry_notifications(actor=administrator, notification_ids=[note.pk])
            wait_for(lambda: sink.count >= 1, timeout=60, what="the re-sent email")
            time.sleep(2)
        finally:
            worker.stop()

    note.refresh_from_db()
    assert sink.count == 1
    assert sink.message_ids() == [claimed.message_id]
    assert note.status == Notification.Status.SENT


class _DatabaseCutter:
    """Terminates every backend of the test database but the test's own (pg_terminate_backend)."""

    def __init__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.spared = cursor.fetchone()[0]
        self.cuts = 0
        self._lock = threading.Lock()

    def cut(self) -> None:
        with self._lock, psycopg.connect(database_url_for_processes(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [self.spared],
            ).fetchall()
            self.cuts += len(rows)


class _CuttingSink(SmtpSink):
    """Cuts the worker's database connections right after accepting every 10th message, i.e.
    after the server has the email and before the worker has recorded it."""

    def __init__(self, cutter: _DatabaseCutter) -> None:
        super().__init__()
        self.cutter = cutter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.count % 10 == 0:
            self.cutter.cut()
        return answer


def test_cutting_the_workers_database_connections_mid_batch_sends_each_of_100_emails_once(
    rabbitmq_url, business_day, restore_broker, manager
):
    queue = unique_queue()
    cutter = _DatabaseCutter()
    with _CuttingSink(cutter) as sink, broker_queue(rabbitmq_url, queue):
        worker = start_worker(process_env(broker_url=rabbitmq_url, queue=queue, smtp_port=sink.port), queue)
        try:
            use_broker(rabbitmq_url, queue)
            notes = _batch(manager, 100)
            wait_for(lambda: sink.count >= 3, timeout=60, what="the batch to start")
            # Besides the cuts right after acceptance, cut at whatever the worker is doing.
            for _ in range(12):
                if sink.count >= 100:
                    break
                cutter.cut()
                time.sleep(0.6)
            try:
                wait_for(
                    lambda: Notification.objects.filter(pk__in=[n.pk for n in notes], status="sent").count() == 100,
                    timeout=90,
                    what="all 100 rows recorded as sent",
                )
            except AssertionError as error:
                statuses = sorted(Notification.objects.values_list("status", flat=True))
                raise AssertionError(
                    f"{error} {sink.count} received, rows {statuses}\n{worker.log()[-6000:]}"
                ) from None
            # The relay finds nothing to send again.
            relay_pending_notifications()
            time.sleep(3)
            log = worker.log()
        finally:
            worker.stop()

    ids = sink.message_ids()
    assert cutter.cuts >= 10, cutter.cuts
    assert "connection lost" in log.lower(), log[-3000:]
    assert len(ids) == 100, len(ids)
    assert len(set(ids)) == 100
    stored = Notification.objects.filter(pk__in=[n.pk for n in notes]).values_list("message_id", flat=True)
    assert set(ids) == set(stored)


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

    unreachable = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
    # Every alias lives on the same Redis: the cached list rows degrade to misses too.
    settings.CACHES = {"default": unreachable, "fragments": {**unreachable, "KEY_PREFIX": "fragments"}}
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
