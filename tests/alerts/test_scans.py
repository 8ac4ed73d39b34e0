from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import Holding
from apps.alerts.models import Alert
from apps.alerts.scans import business_now, run_scans
from apps.alerts.tasks import run_alert_scans_task
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.notifications.models import Channel, Kind, Notification
from apps.products.selectors import rate_on
from apps.tasks.models import Task
from tests.alerts.support import TODAY, customer, deposit, deposit_product, document
from tests.identity.factories import UserFactory
from tests.interactions.factories import InteractionFactory
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _business_date(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1], "investment": [30, 7, 1], "loan": [30, 7]}
    settings.FINPULSE_DOCUMENT_EXPIRY_DAYS = [60, 30]
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {"premium": 90}
    settings.FINPULSE_CUSTOMER_NOTICE_CHANNELS = []
    # One notification per alert here; digests (first run, backlogs) have tests of their own.
    settings.FINPULSE_ALERT_DIGEST_FIRST_RUN = False
    settings.FINPULSE_ALERT_DIGEST_THRESHOLD = 100


def _counts() -> tuple[int, int, int]:
    return Alert.objects.count(), Task.objects.exclude(source_rule="").count(), Notification.objects.count()


def _seed(manager):  # type: ignore[no-untyped-def]
    product = deposit_product()
    owner = customer(manager)
    holdings = {days: deposit(owner, product, days) for days in (1, 7, 30)}
    deposit(owner, product, 45)  # outside every window
    deposit(owner, product, 7, status=Holding.Status.CLOSED)  # closed: nothing to renew
    expiring = document(owner, 20)  # 30-day threshold
    document(owner, 200)  # far away
    neglected = customer(manager, segment="premium", customer_since=TODAY - dt.timedelta(days=200))
    called = customer(manager, segment="premium", customer_since=TODAY - dt.timedelta(days=400))
    InteractionFactory(customer=called, occurred_at=timezone.now() - dt.timedelta(days=2))
    return holdings, expiring, neglected


def test_one_tick_raises_exactly_the_expected_alerts_tasks_and_notifications_and_a_second_tick_none(manager):
    holdings, expiring, neglected = _seed(manager)

    run_alert_scans_task()

    alerts = Alert.objects.all()
    fired = {(a.rule, a.object_id, a.threshold) for a in alerts}
    assert fired == {
        (Alert.Rule.MATURITY, holdings[1].pk, 1),
        (Alert.Rule.MATURITY, holdings[7].pk, 7),
        (Alert.Rule.MATURITY, holdings[30].pk, 30),
        (Alert.Rule.DOCUMENT_EXPIRY, expiring.pk, 30),
        (Alert.Rule.RELATIONSHIP, neglected.pk, 90),
    }
    tasks = Task.objects.exclude(source_rule="")
    assert tasks.count() == 5
    assert all(alert.task is not None and alert.task.assignee_id == manager.pk for alert in alerts)
    # Each alert: one in-app and one email notification to the manager (the defaults).
    alert_notes = Notification.objects.exclude(kind__in=[Kind.TASK_DUE_SOON, Kind.TASK_OVERDUE, Kind.TASK_REMINDER])
    assert alert_notes.count() == 10
    assert set(alert_notes.values_list("channel", flat=True)) == {Channel.IN_APP, Channel.EMAIL}
    assert all(n.recipient_user_id == manager.pk for n in alert_notes)
    # The new tasks due within a day were announced by their alerts: no "due soon" or "overdue"
    # message for them on the day they were made, in this tick or the next.
    assert tasks.filter(due_at__lte=business_now(TODAY) + dt.timedelta(hours=24)).count() >= 1
    run_alert_scans_task()
    assert not Notification.objects.filter(kind__in=[Kind.TASK_DUE_SOON, Kind.TASK_OVERDUE]).exists()
    before = _counts()
    audit_before = AuditEvent.objects.count()

    run_alert_scans_task()

    assert _counts() == before
    assert AuditEvent.objects.count() == audit_before


def test_a_maturity_alert_carries_the_instruction_and_the_rate_valid_on_the_maturity_date(manager):
    holdings, _, _ = _seed(manager)

    run_scans()

    in_30 = Alert.objects.get(rule=Alert.Rule.MATURITY, object_id=holdings[30].pk)
    in_7 = Alert.objects.get(rule=Alert.Rule.MATURITY, object_id=holdings[7].pk)
    assert in_30.details["maturity_instruction"] == "renew"
    assert in_30.details["rate_on_maturity"] == "3.6000"
    assert in_7.details["rate_on_maturity"] == "3.2500"
    assert "Renew" in in_30.reason and "3.60%" in in_30.reason
    assert in_30.fires_on == holdings[30].maturity_date - dt.timedelta(days=30)
    assert in_30.task.source == Task.Source.MATURITY
    assert in_30.task.source_rule == "maturity:30d"
    email = Notification.objects.get(channel=Channel.EMAIL, payload__alert_id=in_30.pk)
    assert f"/customers/{in_30.customer_id}/" in email.body


def test_a_holding_found_late_fires_only_its_tightest_threshold(manager):
    deposit(customer(manager), deposit_product(), 5)

    run_scans()

    assert list(Alert.objects.values_list("threshold", flat=True)) == [7]


def test_maturity_thresholds_are_configured_per_product_category(manager, settings):
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [14]}
    owner = customer(manager)
    deposit(owner, deposit_product(), 10)
    deposit(owner, deposit_product(), 20)

    run_scans()

    assert list(Alert.objects.values_list("threshold", flat=True)) == [14]


def test_a_renewed_deposit_alerts_again_for_its_new_term(manager):
    holding = deposit(customer(manager), deposit_product(), 7)
    run_scans()
    Holding.objects.filter(pk=holding.pk).update(maturity_date=TODAY + dt.timedelta(days=6))

    run_scans()

    assert Alert.objects.filter(object_id=holding.pk).count() == 2
    assert Task.objects.filter(source_object__startswith=f"accounts.holding:{holding.pk}:").count() == 2


def test_customers_without_a_manager_are_counted_not_alerted(db):
    from tests.customers.factories import CustomerFactory

    deposit(CustomerFactory(), deposit_product(), 7)

    report = run_scans()

    assert Alert.objects.count() == 0
    assert report.rules["maturity"].unassigned == 1


def test_kyc_review_due_and_overdue_raise_one_alert_each(manager):
    soon = customer(manager, kyc_review_date=TODAY + dt.timedelta(days=10))
    late = customer(manager, kyc_review_date=TODAY - dt.timedelta(days=3))
    customer(manager, kyc_review_date=TODAY + dt.timedelta(days=90))

    run_scans()
    run_scans()

    alerts = Alert.objects.filter(rule=Alert.Rule.KYC_REVIEW)
    assert set(alerts.values_list("object_id", flat=True)) == {soon.pk, late.pk}
    assert Task.objects.filter(source=Task.Source.KYC_REVIEW).count() == 2


def test_relationship_cadence_follows_the_segment_interval(manager, settings):
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {"premium": 90, "mass": 365}
    premium = customer(manager, segment="premium", customer_since=TODAY - dt.timedelta(days=120))
    customer(manager, segment="mass", customer_since=TODAY - dt.timedelta(days=120))

    run_scans()

    alert = Alert.objects.get(rule=Alert.Rule.RELATIONSHIP)
    assert alert.customer_id == premium.pk
    assert alert.threshold == 90
    assert "never contacted" in alert.reason


def test_follow_up_reminders_overdue_and_escalation_to_the_branch_manager(manager, branch_manager):
    now = business_now(TODAY)
    owner = customer(manager)
    reminded = TaskFactory(customer=owner, due_at=now + dt.timedelta(days=3), reminder_at=now - dt.timedelta(hours=1))
    long_overdue = TaskFactory(customer=owner, due_at=now - dt.timedelta(days=5))
    # Made on an earlier day: a task is never reported overdue on the day it was created.
    Task.objects.filter(pk=long_overdue.pk).update(created_at=timezone.now() - dt.timedelta(days=6))

    run_scans(only={"followups"})
    run_scans(only={"followups"})

    to_manager = Notification.objects.filter(recipient_user=manager)
    reminder = to_manager.get(kind=Kind.TASK_REMINDER)
    assert reminder.dedupe_key.startswith(f"task_reminder:tasks.task:{reminded.pk}:")
    assert to_manager.filter(kind=Kind.TASK_REMINDER).count() == 1
    assert to_manager.filter(kind=Kind.TASK_OVERDUE).count() == 1
    escalation = Alert.objects.get(rule=Alert.Rule.TASK_ESCALATION)
    assert escalation.object_id == long_overdue.pk
    assert escalation.manager_id == branch_manager.pk
    assert Notification.objects.filter(recipient_user=branch_manager, kind=Kind.TASK_ESCALATION).count() == 2


def test_a_reminder_for_a_task_on_a_customer_that_left_the_book_names_neither(manager, other_manager):
    from apps.customers.book import OUTSIDE_BOOK
    from apps.customers.services import assign_customer

    now = business_now(TODAY)
    moved = customer(manager, last_name="Movedaway", branch=UserFactory().branch)
    TaskFactory(
        customer=moved,
        title="Call Mr Movedaway",
        due_at=now + dt.timedelta(days=3),
        reminder_at=now - dt.timedelta(hours=1),
    )
    assign_customer(actor=None, customer=moved, manager=other_manager, reason="Moved to another book")

    run_scans(only={"followups"})

    reminder = Notification.objects.get(recipient_user=manager, kind=Kind.TASK_REMINDER)
    assert reminder.subject == f"Reminder: a follow-up on {OUTSIDE_BOOK}"
    assert "Movedaway" not in reminder.body + reminder.subject
    assert reminder.url == ""


def test_a_second_concurrent_scan_is_skipped_while_one_runs(manager):
    from django.db import connections

    from apps.alerts.scans import SCAN_LOCK_ID

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SCAN_LOCK_ID])
        report = run_scans()
    finally:
        other.close()

    assert report.skipped == "another scan is running"


@pytest.mark.parametrize("size", [3, 30])
def test_the_maturity_scan_queries_stay_flat(manager, size, django_assert_max_num_queries):
    owner = customer(manager)
    product = deposit_product()
    for i in range(size):
        deposit(owner, product, 1 + i % 30)

    with django_assert_max_num_queries(30):
        report = run_scans(only={"maturity"})

    assert report.rules["maturity"].alerts == size


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return day.replace(year=index // 12, month=index % 12 + 1)


@pytest.mark.parametrize(
    ("days", "amount", "term", "expected"),
    [
        (5, Decimal("500"), 12, "3.0000"),  # before the new slabs take effect: the base rate
        (20, Decimal("5000"), 12, "4.2000"),  # newest slabs; the higher amount floor wins
        (20, Decimal("50000"), 24, "4.0000"),  # above the 4.2 slab's ceiling: the term slab
        (20, Decimal("50000"), 6, "3.5000"),  # too short for the term slab: the older amount slab
    ],
)
def test_the_maturity_alert_quotes_the_slab_for_the_amount_and_term_on_the_maturity_date(
    manager, days, amount, term, expected
):
    from tests.accounts.factories import HoldingFactory
    from tests.products.factories import ProductFactory, ProductRateFactory

    product = ProductFactory(category="deposit")
    old, new = TODAY - dt.timedelta(days=60), TODAY + dt.timedelta(days=10)
    ProductRateFactory(product=product, effective_from=old, rate=Decimal("3.0"))
    ProductRateFactory(product=product, effective_from=old, min_amount=Decimal("10000"), rate=Decimal("3.5"))
    ProductRateFactory(product=product, effective_from=new, min_term_months=12, max_term_months=24, rate=Decimal("4.0"))
    ProductRateFactory(
        product=product,
        effective_from=new,
        min_amount=Decimal("1000"),
        max_amount=Decimal("20000"),
        rate=Decimal("4.2"),
    )
    matures = TODAY + dt.timedelta(days=days)
    holding = HoldingFactory(
        customer=customer(manager),
        product=product,
        category=Holding.Category.TERM_DEPOSIT,
        opened_on=_months_before(matures, term),
        maturity_date=matures,
        balance=amount,
    )

    run_scans(only={"maturity"})

    alert = Alert.objects.get(rule=Alert.Rule.MATURITY, object_id=holding.pk)
    assert alert.details["term_months"] == term
    assert alert.details["rate_on_maturity"] == expected
    assert str(rate_on(product=product, on=matures, amount=amount, term_months=term).rate) == expected


def test_only_branch_managers_of_the_customers_branch_get_escalations(manager):
    UserFactory(roles=[roles.BRANCH_MANAGER], username="elsewhere")  # another branch
    TaskFactory(customer=customer(manager), due_at=business_now(TODAY) - dt.timedelta(days=10))

    report = run_scans(only={"followups"})

    assert Alert.objects.filter(rule=Alert.Rule.TASK_ESCALATION).count() == 0
    assert report.rules["task_escalation"].unassigned == 1


@pytest.mark.parametrize(
    ("segment", "opening"),
    [("affluent", "An affluent"), ("premium", "A premium"), ("private", "A private banking")],
)
def test_a_relationship_reason_reads_as_a_sentence(manager, settings, segment, opening):
    settings.FINPULSE_RELATIONSHIP_CADENCE_DAYS = {segment: 90}
    customer(manager, segment=segment, customer_since=TODAY - dt.timedelta(days=120))

    run_scans(only={"relationship"})

    reason = Alert.objects.get(rule=Alert.Rule.RELATIONSHIP).reason
    assert reason.startswith(f"{opening} customer should be contacted every 90 days; ")
