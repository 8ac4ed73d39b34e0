"""The scans beat runs: maturities, follow-ups, KYC reviews, expiring documents, cadence.

Every scan reads an indexed column (holdings' (status, maturity_date), documents'
expiry_date, customers' kyc_review_date and segment, tasks' (status, reminder_at)), walks it
in keyset batches, and measures "today" with business_today(), so a scan can be replayed for
a pinned business date. Each batch is one transaction (raise_alerts / send_reminders) with a
fixed number of queries, so a million holdings cost a number of batches, not of queries per
holding. Only one scan runs at a time (a session advisory lock), and everything it writes
has a unique key, so running it twice, or from two beats, creates nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeGuard, TypeVar, cast

from django.conf import settings
from django.db import connection
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.alerts.models import Alert
from apps.alerts.services import (
    Candidate,
    Reminder,
    customer_url,
    is_first_run,
    raise_alerts,
    send_reminders,
    settle_alerts,
    wake_snoozed_alerts,
)
from apps.core.business_date import business_today
from apps.core.presentation import count_noun, days_from_today, with_article
from apps.core.templatetags.finpulse import format_rate
from apps.core.windows import (
    RATE_PRECEDENCE,
    WholeMonthsBetween,
    document_expiry_thresholds,
    documents_expiring_within,
    kyc_review_days,
    kyc_review_due_by,
    maturing_within,
    maturity_thresholds_by_category,
    rate_slab_on,
    relationship_cadence_days,
    relationship_contact_cutoff,
    task_escalation_days,
)
from apps.customers.book import OUTSIDE_BOOK, visible_pairs
from apps.customers.fields import DOCUMENT_ROW_FIELDS
from apps.customers.models import Customer, IdentityDocument
from apps.identity import roles
from apps.identity.models import User
from apps.interactions.models import Interaction
from apps.notifications.models import Kind
from apps.products.models import ProductRate, Segment
from apps.tasks.models import Task
from apps.tasks.selectors import business_day_bounds

logger = logging.getLogger(__name__)
RowT = TypeVar("RowT")
RowM = TypeVar("RowM", bound=Model)

SCAN_LOCK_ID = 0x46505F5343414E53  # "FP_SCANS"
DEFAULT_BATCH_SIZE = 1000


@dataclass
class RuleReport:
    batches: int = 0
    scanned: int = 0
    alerts: int = 0
    tasks: int = 0
    notifications: int = 0
    unassigned: int = 0  # customers without a relationship manager: nobody to alert

    def read(self, batches: Iterable[list[RowT]]) -> Iterator[list[RowT]]:
        """The scan's batches, each counted (batches, rows scanned) as it is read."""
        for batch in batches:
            self.batches += 1
            self.scanned += len(batch)
            yield batch

    def has_manager(self, manager_id: int | None) -> TypeGuard[int]:
        """An alert goes to the customer's relationship manager: a customer without one alerts
        nobody and is counted as unassigned (the run's report shows how many)."""
        if manager_id is None:
            self.unassigned += 1
            return False
        return True


@dataclass
class ScanReport:
    business_date: str = ""
    skipped: str = ""
    first_run: bool = False
    digests: int = 0
    rules: dict[str, RuleReport] = field(default_factory=lambda: defaultdict(RuleReport))

    def as_dict(self) -> dict[str, Any]:
        return {
            "business_date": self.business_date,
            "skipped": self.skipped,
            "first_run": self.first_run,
            "digests": self.digests,
            "rules": {str(name): asdict(report) for name, report in self.rules.items()},
        }

    def total(self, what: str) -> int:
        return sum(getattr(report, what) for report in self.rules.values())


def segment_label(segment: str) -> str:
    """A segment as a reason sentence names it: 'affluent', 'private banking'."""
    return str(Segment(segment).label).lower() if segment in Segment.values else segment


def business_now(today: dt.date) -> dt.datetime:
    """Now, moved to the business date (same time of day), for follow-up due times."""
    now = timezone.localtime()
    return now + dt.timedelta(days=(today - now.date()).days)


def _keyset(queryset: QuerySet, date_field: str, batch_size: int) -> Iterator[list]:
    """Batches ordered by (date, id), each starting after the last row of the previous one."""
    last: tuple[dt.date, int] | None = None
    while True:
        page = queryset
        if last is not None:
            page = page.filter(Q(**{f"{date_field}__gt": last[0]}) | Q(**{date_field: last[0], "pk__gt": last[1]}))
        rows = list(page.order_by(date_field, "pk")[:batch_size])
        if not rows:
            return
        yield rows
        tail = rows[-1]
        last = (getattr(tail, date_field), tail.pk)
        if len(rows) < batch_size:
            return


def _tightest(thresholds: list[int], days_left: int) -> int | None:
    """The smallest threshold already reached: 5 days left with [30, 7, 1] is the 7-day alert."""
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def _apply(report: RuleReport, candidates: list[Candidate]) -> None:
    result = raise_alerts(candidates=candidates)
    report.alerts += result.alerts
    report.tasks += result.tasks
    report.notifications += result.notifications


# --- maturities -------------------------------------------------------------------------


def _owners(holding_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The customer an alert goes to: the owner party (else the first party) of each holding."""
    order: dict[str, int] = {HoldingParty.Role.OWNER: 0, HoldingParty.Role.JOINT: 1}
    found: dict[int, dict[str, Any]] = {}
    rows = HoldingParty.objects.filter(holding_id__in=holding_ids).values(
        "holding_id",
        "role",
        "customer_id",
        "customer__primary_manager_id",
        "customer__display_name",
        "customer__status",
    )
    for row in sorted(rows, key=lambda r: (r["holding_id"], order.get(r["role"], 9), r["customer_id"])):
        found.setdefault(row["holding_id"], dict(row))
    return found


def scan_maturities(*, today: dt.date, batch_size: int, report: RuleReport) -> None:
    thresholds = {category: sorted(days) for category, days in maturity_thresholds_by_category().items()}
    if not thresholds:
        return
    window = Q()
    for category in thresholds:
        window |= Q(product__category=category, maturity_date__lte=maturing_within(today=today, category=category))
    # The product's rate on each holding's maturity date, by the one rate rule, in the same query.
    rate_on_maturity = ProductRate.objects.filter(
        rate_slab_on(on=OuterRef("maturity_date"), amount=OuterRef("balance"), term_months=OuterRef("term_months")),
        product_id=OuterRef("product_id"),
    ).order_by(*RATE_PRECEDENCE)
    holdings = (
        Holding.objects.filter(status=Holding.Status.ACTIVE, maturity_date__gte=today)
        .filter(window)
        .annotate(term_months=WholeMonthsBetween("opened_on", "maturity_date"))
        .annotate(rate_on_maturity_id=Subquery(rate_on_maturity.values("pk")[:1]))
        .select_related("product")
        .only(
            "id",
            "category",
            "number_hint",
            "currency",
            "balance",
            "rate",
            "opened_on",
            "maturity_date",
            "maturity_instruction",
            "product__id",
            "product__name",
            "product__category",
        )
    )
    notice_days = set(settings.FINPULSE_CUSTOMER_NOTICE_DAYS) if settings.FINPULSE_CUSTOMER_NOTICE_CHANNELS else set()
    for batch in report.read(_keyset(holdings, "maturity_date", batch_size)):
        owners = _owners([h.pk for h in batch])
        slabs = ProductRate.objects.in_bulk({h.rate_on_maturity_id for h in batch} - {None})
        candidates = []
        for holding in batch:
            days_left = (holding.maturity_date - today).days
            threshold = _tightest(thresholds[holding.product.category], days_left)
            owner = owners.get(holding.pk)
            if threshold is None or owner is None or owner["customer__status"] == Customer.Status.CLOSED:
                continue
            if not report.has_manager(owner["customer__primary_manager_id"]):
                continue
            term = holding.term_months
            slab = slabs.get(holding.rate_on_maturity_id)
            instruction = holding.get_maturity_instruction_display() or "none recorded"
            rate_text = format_rate(slab.rate) if slab else "no rate published"
            what = f"{holding.get_category_display()} {holding.number_hint}".strip()
            reason = (
                f"{what} ({holding.product.name}) matures on {holding.maturity_date:%d %b %Y}, "
                f"{days_from_today(days_left)}. "
                f"Maturity instruction: {instruction}. Product rate on the maturity date: {rate_text}."
            )
            notice = None
            if threshold in notice_days:
                notice = (
                    f"Your {holding.get_category_display().lower()} matures on {holding.maturity_date:%d %b %Y}",
                    f"Your {what} matures on {holding.maturity_date:%d %b %Y}. Your instruction: {instruction}. "
                    "Your relationship manager will contact you about renewal options.",
                )
            candidates.append(
                Candidate(
                    rule=Alert.Rule.MATURITY,
                    threshold=threshold,
                    object_type="accounts.holding",
                    object_id=holding.pk,
                    fires_on=holding.maturity_date - dt.timedelta(days=threshold),
                    customer_id=owner["customer_id"],
                    manager_id=owner["customer__primary_manager_id"],
                    title=f"{owner['customer__display_name']}: {what} matures {days_from_today(days_left)}",
                    reason=reason,
                    notification_kind=Kind.MATURITY,
                    details={
                        "maturity_date": holding.maturity_date.isoformat(),
                        "maturity_instruction": holding.maturity_instruction,
                        "current_rate": str(holding.rate) if holding.rate is not None else None,
                        "rate_on_maturity": str(slab.rate) if slab else None,
                        "rate_effective_from": slab.effective_from.isoformat() if slab else None,
                        "term_months": term,
                        "currency": holding.currency,
                    },
                    task_source=Task.Source.MATURITY,
                    task_due=holding.maturity_date - dt.timedelta(days=1),
                    task_priority=Task.Priority.HIGH if threshold <= 7 else Task.Priority.NORMAL,
                    customer_notice=notice,
                    due_on=holding.maturity_date,
                    amount=holding.balance,
                )
            )
        _apply(report, candidates)


# --- identity documents and KYC -------------------------------------------------------------


def scan_documents(*, today: dt.date, batch_size: int, report: RuleReport) -> None:
    thresholds = sorted(document_expiry_thresholds())
    if not thresholds:
        return
    documents = (
        IdentityDocument.objects.filter(
            expiry_date__gte=today,
            expiry_date__lte=documents_expiring_within(today=today),
            customer__status__in=[Customer.Status.ACTIVE, Customer.Status.DORMANT, Customer.Status.PROSPECT],
        )
        .select_related("customer")
        .only(*DOCUMENT_ROW_FIELDS, "customer__primary_manager_id")
    )
    for batch in report.read(_keyset(documents, "expiry_date", batch_size)):
        candidates = []
        for document in batch:
            days_left = (document.expiry_date - today).days
            threshold = _tightest(thresholds, days_left)
            customer = document.customer
            if threshold is None:
                continue
            if not report.has_manager(customer.primary_manager_id):
                continue
            what = f"{document.get_document_type_display()} {document.number_hint}".strip()
            candidates.append(
                Candidate(
                    rule=Alert.Rule.DOCUMENT_EXPIRY,
                    threshold=threshold,
                    object_type="customers.identitydocument",
                    object_id=document.pk,
                    fires_on=document.expiry_date - dt.timedelta(days=threshold),
                    customer_id=customer.pk,
                    manager_id=customer.primary_manager_id,
                    title=f"{customer.display_name}: {what} expires {days_from_today(days_left)}",
                    reason=f"{what} expires on {document.expiry_date:%d %b %Y}: ask the customer for a valid document.",
                    notification_kind=Kind.DOCUMENT_EXPIRY,
                    details={"expiry_date": document.expiry_date.isoformat(), "document_type": document.document_type},
                    task_source=Task.Source.DOCUMENT_EXPIRY,
                    task_due=document.expiry_date - dt.timedelta(days=7),
                    due_on=document.expiry_date,
                )
            )
        _apply(report, candidates)


def scan_kyc_reviews(*, today: dt.date, batch_size: int, report: RuleReport) -> None:
    notice = kyc_review_days()
    customers = Customer.objects.filter(
        kyc_review_date__lte=kyc_review_due_by(today=today),
        status__in=[Customer.Status.ACTIVE, Customer.Status.DORMANT],
    ).only("id", "display_name", "kyc_review_date", "primary_manager_id")
    for batch in report.read(_keyset(customers, "kyc_review_date", batch_size)):
        candidates = []
        for customer in batch:
            if not report.has_manager(customer.primary_manager_id):
                continue
            days_left = (customer.kyc_review_date - today).days
            when = days_from_today(days_left)
            candidates.append(
                Candidate(
                    rule=Alert.Rule.KYC_REVIEW,
                    threshold=notice,
                    object_type="customers.customer",
                    object_id=customer.pk,
                    fires_on=customer.kyc_review_date - dt.timedelta(days=notice),
                    customer_id=customer.pk,
                    manager_id=customer.primary_manager_id,
                    title=f"{customer.display_name}: KYC review due {when}",
                    reason=f"The KYC review is due on {customer.kyc_review_date:%d %b %Y} ({when}).",
                    notification_kind=Kind.KYC_REVIEW,
                    details={"kyc_review_date": customer.kyc_review_date.isoformat()},
                    task_source=Task.Source.KYC_REVIEW,
                    task_due=customer.kyc_review_date,
                    task_priority=Task.Priority.HIGH if days_left < 0 else Task.Priority.NORMAL,
                    due_on=customer.kyc_review_date,
                )
            )
        _apply(report, candidates)


# --- relationship cadence ---------------------------------------------------------------


def scan_relationships(*, today: dt.date, batch_size: int, report: RuleReport) -> None:
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce, TruncDate

    last_contact = Subquery(
        Interaction.objects.filter(customer_id=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    )
    for segment, days in sorted(relationship_cadence_days().items()):
        cutoff = relationship_contact_cutoff(segment=segment, today=today)
        customers = (
            Customer.objects.filter(segment=segment, status=Customer.Status.ACTIVE)
            .annotate(
                last_contact=TruncDate(last_contact, tzinfo=timezone.get_current_timezone()),
                since=Coalesce(F("customer_since"), TruncDate(F("created_at"), tzinfo=timezone.get_current_timezone())),
            )
            .filter(Q(last_contact__lt=cutoff) | Q(last_contact__isnull=True, since__lt=cutoff))
            .only("id", "display_name", "primary_manager_id")
        )
        for batch in report.read(_by_pk(customers, batch_size)):
            candidates = []
            for customer in batch:
                if not report.has_manager(customer.primary_manager_id):
                    continue
                # The annotations above (django-stubs loses them after .only()).
                contacted_on: dt.date | None = customer.last_contact  # type: ignore[attr-defined]
                base: dt.date = contacted_on or customer.since  # type: ignore[attr-defined]
                contacted = f"last contacted on {base:%d %b %Y}" if contacted_on else "never contacted"
                candidates.append(
                    Candidate(
                        rule=Alert.Rule.RELATIONSHIP,
                        threshold=int(days),
                        object_type="customers.customer",
                        object_id=customer.pk,
                        fires_on=base + dt.timedelta(days=int(days)),
                        customer_id=customer.pk,
                        manager_id=customer.primary_manager_id,
                        title=f"{customer.display_name}: overdue relationship contact",
                        reason=(
                            f"{with_article(segment_label(segment)).capitalize()} customer should be contacted "
                            f"every {count_noun(int(days), 'day')}; "
                            f"this customer was {contacted}."
                        ),
                        notification_kind=Kind.RELATIONSHIP,
                        details={
                            "segment": segment,
                            "interval_days": int(days),
                            "last_contact": contacted_on.isoformat() if contacted_on else None,
                        },
                        task_source=Task.Source.RELATIONSHIP,
                        task_due=today + dt.timedelta(days=7),
                        due_on=base + dt.timedelta(days=int(days)),
                    )
                )
            _apply(report, candidates)


# --- follow-ups -------------------------------------------------------------------------


def _by_pk(queryset: QuerySet[RowM], batch_size: int) -> Iterator[list[RowM]]:
    """Batches in primary-key order, each starting after the last row of the previous one."""
    last_id = 0
    while True:
        batch = list(queryset.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return
        yield batch
        last_id = batch[-1].pk
        if len(batch) < batch_size:
            return


def scan_followups(
    *, today: dt.date, batch_size: int, reports: dict[str, RuleReport], folded: dict[int, Counter[str]] | None = None
) -> None:
    """Reminders, due-soon and overdue messages for open follow-ups, and escalations.

    On the first scan (`folded` given) they are not sent one by one but counted for each
    manager's digest.
    """
    now = business_now(today)
    open_tasks = (
        Task.objects.filter(status=Task.Status.OPEN)
        .select_related("customer")
        .only(
            "id",
            "title",
            "due_at",
            "reminder_at",
            "assignee_id",
            "customer__id",
            "customer__display_name",
            "customer__branch_id",
        )
    )
    soon = dt.timedelta(hours=settings.FINPULSE_TASK_DUE_SOON_HOURS)
    # "Created today" is on the clock the row was written by (created_at), not the business date.
    created_today = Q(created_at__gte=business_day_bounds(timezone.localdate())[0])
    sweeps: list[tuple[str, QuerySet[Task], Callable[[Task], tuple[str, str, str]]]] = [
        (
            Kind.TASK_REMINDER,
            # Reminders of the last week only: an old reminder nobody saw is reported as overdue instead.
            open_tasks.filter(reminder_at__lte=now, reminder_at__gte=now - dt.timedelta(days=7)),
            lambda t: (
                "Reminder",
                f"due {timezone.localtime(t.due_at):%d %b %H:%M}",
                cast(dt.datetime, t.reminder_at).isoformat(),
            ),
        ),
        (
            Kind.TASK_DUE_SOON,
            # A rule's task made today was announced by its alert (or the digest): no second message.
            open_tasks.filter(due_at__gt=now, due_at__lte=now + soon).exclude(created_today & ~Q(source_rule="")),
            lambda t: ("Due soon", f"due {timezone.localtime(t.due_at):%d %b %H:%M}", t.due_at.isoformat()),
        ),
        (
            Kind.TASK_OVERDUE,
            # Never "overdue" on the day it was created: a task made today is today's work.
            open_tasks.filter(due_at__lte=now).exclude(created_today),
            lambda t: ("Overdue", f"was due {timezone.localtime(t.due_at):%d %b %H:%M}", t.due_at.isoformat()),
        ),
    ]
    thresholds: dict[str, int] = {Kind.TASK_DUE_SOON: settings.FINPULSE_TASK_DUE_SOON_HOURS}
    for kind, queryset, describe in sweeps:
        report = reports[kind]
        for batch in report.read(_by_pk(queryset, batch_size)):
            # A task can outlive its assignee's access (the customer moved to another book):
            # then the reminder names neither the task nor the customer (apps/customers/book.py).
            in_book = visible_pairs((t.assignee_id, t.customer_id) for t in batch)
            reminders = []
            for task in batch:
                label, when, on = describe(task)
                if (task.assignee_id, task.customer_id) in in_book:
                    subject, body = f"{label}: {task.title}", f"{task.customer.display_name}: {when}."
                    url = customer_url(task.customer_id)
                else:
                    subject = f"{label}: a follow-up on {OUTSIDE_BOOK}"
                    body = f"{when[:1].upper()}{when[1:]}. Ask your branch manager to reassign it."
                    url = ""
                reminders.append(
                    Reminder(
                        task.assignee_id, kind, f"tasks.task:{task.pk}", thresholds.get(kind, 0), on, subject, body, url
                    )
                )
            report.notifications += send_reminders(reminders=reminders, folded=folded)
    _escalate(now=now, batch_size=batch_size, report=reports[Alert.Rule.TASK_ESCALATION])


def _escalate(*, now: dt.datetime, batch_size: int, report: RuleReport) -> None:
    """Follow-ups overdue for task_escalation_days() go to the branch manager."""
    days = task_escalation_days()
    overdue = Task.objects.filter(status=Task.Status.OPEN, due_at__lte=now - dt.timedelta(days=days)).select_related(
        "customer", "assignee"
    )
    for batch in report.read(_by_pk(overdue, batch_size)):
        bosses: dict[int, int] = {}
        for user_id, branch_id in (
            User.objects.filter(
                groups__name=roles.BRANCH_MANAGER, is_active=True, branch_id__in={t.customer.branch_id for t in batch}
            )
            .order_by("pk")
            .values_list("pk", "branch_id")
        ):
            bosses.setdefault(branch_id, user_id)
        candidates = []
        for task in batch:
            boss = bosses.get(task.customer.branch_id)
            if boss is None or boss == task.assignee_id:
                report.unassigned += boss is None
                continue
            due = timezone.localtime(task.due_at)
            late = (now.date() - due.date()).days
            candidates.append(
                Candidate(
                    rule=Alert.Rule.TASK_ESCALATION,
                    threshold=days,
                    object_type="tasks.task",
                    object_id=task.pk,
                    fires_on=due.date() + dt.timedelta(days=days),
                    customer_id=task.customer_id,
                    manager_id=boss,
                    title=f"Escalated: {task.title} ({count_noun(late, 'day')} overdue)",
                    reason=(
                        f"The follow-up “{task.title}” for {task.customer.display_name}, assigned to "
                        f"{task.assignee.get_full_name() or task.assignee.get_username()}, was due on {due:%d %b %Y} "
                        f"and is {count_noun(late, 'day')} overdue."
                    ),
                    notification_kind=Kind.TASK_ESCALATION,
                    details={"task_id": task.pk, "assignee_id": task.assignee_id, "due_at": task.due_at.isoformat()},
                    due_on=due.date(),
                )
            )
        _apply(report, candidates)


# --- entry point ------------------------------------------------------------------------


def run_scans(*, batch_size: int = DEFAULT_BATCH_SIZE, only: set[str] | None = None) -> ScanReport:
    """Run every scan for the business date; a second concurrent run waits for nothing and skips."""
    today = business_today()
    report = ScanReport(business_date=today.isoformat())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SCAN_LOCK_ID])
        if not cursor.fetchone()[0]:
            report.skipped = "another scan is running"
            logger.info("Alert scans skipped: another scan is running.")
            return report
    try:

        def wanted(name: str) -> bool:
            return only is None or name in only

        # The first scan of a book: every manager gets one digest, follow-ups included.
        report.first_run = is_first_run()
        folded: dict[int, Counter[str]] | None = defaultdict(Counter) if report.first_run else None

        if wanted("maturity"):
            scan_maturities(today=today, batch_size=batch_size, report=report.rules["maturity"])
        if wanted("document_expiry"):
            scan_documents(today=today, batch_size=batch_size, report=report.rules["document_expiry"])
        if wanted("kyc_review"):
            scan_kyc_reviews(today=today, batch_size=batch_size, report=report.rules["kyc_review"])
        if wanted("relationship"):
            scan_relationships(today=today, batch_size=batch_size, report=report.rules["relationship"])
        if wanted("followups"):
            scan_followups(today=today, batch_size=batch_size, reports=report.rules, folded=folded)
        if wanted("snoozed"):
            wake_snoozed_alerts(today=today)
        # The work of everything raised above (and of any alert a crashed run left unsettled).
        settled = settle_alerts(today=today, first_run=report.first_run, folded=folded)
        work = report.rules["work"]
        work.tasks, work.notifications, report.digests = settled.tasks, settled.notifications, settled.digests
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SCAN_LOCK_ID])
    logger.info(
        "Alert scans for %s: %d alert(s), %d task(s), %d notification(s), %d digest(s).",
        today,
        report.total("alerts"),
        report.total("tasks"),
        report.total("notifications"),
        report.digests,
    )
    return report
