"""No silent start, no flood: the first scan (or a backlog) sends each manager one digest per
channel and one task per customer listing its items; afterwards alerts come one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.alerts.models import Alert
from apps.alerts.scans import business_now, run_scans
from apps.notifications.models import Channel, Kind, Notification
from apps.tasks.models import Task
from tests.alerts.support import TODAY, customer, deposit, deposit_product, document
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db
ALERT_KINDS = [Kind.MATURITY, Kind.DOCUMENT_EXPIRY, Kind.KYC_REVIEW, Kind.RELATIONSHIP, Kind.TASK_ESCALATION]


@pytest.fixture(autouse=True)
def _scan_settings(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}
    settings.FINPULSE_DOCUMENT_EXPIRY_DAYS = [60, 30]
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {}
    settings.FINPULSE_CUSTOMER_NOTICE_CHANNELS = []
    settings.FINPULSE_ALERT_DIGEST_FIRST_RUN = True
    settings.FINPULSE_ALERT_DIGEST_THRESHOLD = 5
    settings.FINPULSE_SITE_URL = "https://crm.bank.example"


def _book(manager):  # type: ignore[no-untyped-def]
    product = deposit_product()
    busy = customer(manager, first_name="Ada", last_name="Busy")
    for days in (0, 3, 12):
        deposit(busy, product, days)
    document(busy, 20)
    quiet = customer(manager, first_name="Quin", last_name="Quiet")
    deposit(quiet, product, 5)
    return busy, quiet


def test_the_first_scan_sends_each_manager_one_digest_per_channel_not_one_message_per_alert(manager, other_manager):
    _book(manager)
    deposit(customer(other_manager), deposit_product(), 2)

    report = run_scans()

    assert Alert.objects.filter(manager=manager).count() == 5
    assert report.first_run and report.digests == 2
    assert not Notification.objects.filter(kind__in=ALERT_KINDS).exists()
    digests = Notification.objects.filter(kind=Kind.ALERT_DIGEST)
    per_person = digests.values("recipient_user", "channel").annotate(n=Count("pk"))
    assert {(row["recipient_user"], row["channel"], row["n"]) for row in per_person} == {
        (manager.pk, Channel.IN_APP, 1),
        (manager.pk, Channel.EMAIL, 1),
        (other_manager.pk, Channel.IN_APP, 1),
        (other_manager.pk, Channel.EMAIL, 1),
    }
    email = digests.get(recipient_user=manager, channel=Channel.EMAIL)
    assert email.subject == "5 alerts to review from the first scan"
    assert "Holding maturing: 4, Identity document expiring: 1." in email.body
    # Most urgent first: the deposit maturing today heads the list.
    listed = [line for line in email.body.splitlines() if line.startswith("- ")]
    assert len(listed) == 5 and "due today" in listed[0]
    assert "https://crm.bank.example/alerts/" in email.body
    assert email.path == "/alerts/"
    assert Alert.objects.filter(notified_at__isnull=True).count() == 0


def test_a_backlog_gives_one_task_per_customer_listing_its_items(manager):
    busy, quiet = _book(manager)

    run_scans()

    busy_tasks = Task.objects.filter(customer=busy)
    assert busy_tasks.count() == 1
    shared = busy_tasks.get()
    assert shared.source == Task.Source.ALERTS
    assert shared.title == "Ada Busy: 4 alerts to review"
    assert shared.description.count("\n- ") == 4
    assert set(Alert.objects.filter(customer=busy).values_list("task", flat=True)) == {shared.pk}
    # Due with its most urgent item: the deposit maturing today (end of today, not in the past).
    assert timezone.localtime(shared.due_at).date() == TODAY
    assert shared.priority == Task.Priority.HIGH
    # A customer with a single item keeps the ordinary task of its rule.
    assert list(Task.objects.filter(customer=quiet).values_list("source", flat=True)) == [Task.Source.MATURITY]


def test_after_the_first_run_a_few_new_alerts_come_one_by_one_and_a_backlog_as_a_digest(manager, settings):
    product = deposit_product()
    owner = customer(manager)
    deposit(owner, product, 3)
    run_scans()  # the first run: one digest
    assert Notification.objects.filter(kind=Kind.ALERT_DIGEST).count() == 2

    for days in (4, 5):
        deposit(owner, product, days)
    run_scans()
    assert Notification.objects.filter(kind=Kind.MATURITY, channel=Channel.IN_APP).count() == 2
    assert Notification.objects.filter(kind=Kind.ALERT_DIGEST).count() == 2

    for days in range(8, 15):  # seven new alerts: more than the threshold of five
        deposit(owner, product, days)
    run_scans()
    assert Notification.objects.filter(kind=Kind.MATURITY, channel=Channel.IN_APP).count() == 2
    assert Notification.objects.filter(kind=Kind.ALERT_DIGEST).count() == 4
    latest = Notification.objects.filter(kind=Kind.ALERT_DIGEST, channel=Channel.IN_APP).latest("pk")
    assert latest.subject == "7 alerts to review"


def test_a_second_scan_the_same_day_sends_nothing_more(manager):
    _book(manager)
    run_scans()
    counts = (Alert.objects.count(), Task.objects.count(), Notification.objects.count())

    run_scans()

    assert (Alert.objects.count(), Task.objects.count(), Notification.objects.count()) == counts


def test_an_alert_left_unsettled_by_a_crash_gets_its_work_on_the_next_scan(manager):
    _book(manager)
    run_scans()
    late = Alert.objects.filter(customer__last_name="Quiet").get()
    Task.objects.filter(pk=late.task_id).delete()
    Alert.objects.filter(pk=late.pk).update(notified_at=None, task=None)

    run_scans()

    late.refresh_from_db()
    assert late.notified_at is not None
    assert late.task is not None and late.task.source == Task.Source.MATURITY
    assert Notification.objects.filter(kind=Kind.MATURITY, payload__alert_id=late.pk).count() == 2


def test_the_first_scan_is_not_followed_by_due_soon_messages_for_its_tasks(manager):
    _book(manager)
    run_scans()

    run_scans()

    assert not Notification.objects.filter(kind__in=[Kind.TASK_DUE_SOON, Kind.TASK_OVERDUE]).exists()


def test_the_first_scan_folds_follow_up_messages_into_the_digest_and_never_sends_them_later(manager, other_manager):
    now = business_now(TODAY)
    owner = customer(manager)
    deposit(owner, deposit_product(), 3)
    TaskFactory(customer=owner, due_at=now + dt.timedelta(days=3), reminder_at=now - dt.timedelta(hours=1))
    late = TaskFactory(customer=owner, due_at=now - dt.timedelta(days=2))
    theirs = TaskFactory(customer=customer(other_manager), due_at=now - dt.timedelta(days=1))
    Task.objects.filter(pk__in=[late.pk, theirs.pk]).update(created_at=timezone.now() - dt.timedelta(days=4))

    run_scans()
    run_scans()

    follow_ups = Notification.objects.filter(kind__in=[Kind.TASK_REMINDER, Kind.TASK_OVERDUE, Kind.TASK_DUE_SOON])
    assert follow_ups.exists()
    assert set(follow_ups.values_list("status", flat=True)) == {Notification.Status.SKIPPED}
    assert not follow_ups.filter(channel=Channel.IN_APP, read_at__isnull=True).exists()
    mine = Notification.objects.get(kind=Kind.ALERT_DIGEST, recipient_user=manager, channel=Channel.IN_APP)
    assert "Also on your task list: 1 overdue follow-up, 1 follow-up reminder." in mine.body
    theirs_digest = Notification.objects.get(
        kind=Kind.ALERT_DIGEST, recipient_user=other_manager, channel=Channel.IN_APP
    )
    assert theirs_digest.subject == "1 follow-up to chase from the first scan"
    assert theirs_digest.path == "/tasks/"
