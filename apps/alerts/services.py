"""Every write to alerts: raising them in bulk (scans), settling their work, a manager handling them.

Raising is the bulk path of a scan batch, in one transaction: the alerts, any customer
notices (outbox rows, dispatched after commit) and one audit event per alert. Settling then
writes each manager's share of the new alerts in one transaction: the follow-up tasks (once
per object, rule and threshold: the tasks' unique constraint on (source_rule, source_object))
and the manager's notifications: one per alert normally, one digest per channel on the first
run or for a backlog, with one task per customer listing its items.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.alerts.models import Alert
from apps.core.audit import AuditEntry, hand_over_rows, record_audit_event, record_audit_events
from apps.core.business_date import business_day_end, business_today
from apps.core.errors import Conflict, DomainError
from apps.core.text_limits import DESCRIPTION_MAX_LENGTH
from apps.customers.visibility import ensure_can_edit
from apps.notifications.models import Kind
from apps.notifications.selectors import chosen_channels
from apps.notifications.services import (
    build_customer_notifications,
    build_user_notifications,
    enqueue_notifications,
    record_covered_notifications,
)
from apps.tasks.models import Task

if TYPE_CHECKING:
    from apps.identity.models import User


@dataclass
class Candidate:
    """One (rule, object, threshold) a scan found; becomes an alert unless it already exists."""

    rule: str
    threshold: int
    object_type: str
    object_id: int
    fires_on: dt.date
    customer_id: int
    manager_id: int
    title: str
    reason: str
    notification_kind: str
    details: dict[str, Any] = field(default_factory=dict)
    task_source: str = ""  # empty: no follow-up task (the work already exists, e.g. escalations)
    task_due: dt.date | None = None
    task_priority: int = Task.Priority.NORMAL
    customer_notice: tuple[str, str] | None = None  # (subject, body) for the customer, if any
    due_on: dt.date | None = None  # the deadline (maturity, expiry, review date): the list's urgency
    amount: Decimal | None = None  # the money at stake, as a magnitude

    @property
    def followup(self) -> dict[str, Any] | None:
        """What settle_alerts needs to write the follow-up task (kept in the alert's details)."""
        if not self.task_source:
            return None
        due = self.task_due.isoformat() if self.task_due else None
        return {"source": self.task_source, "due": due, "priority": int(self.task_priority)}

    @property
    def key(self) -> tuple[int, int, dt.date]:
        return (self.object_id, self.threshold, self.fires_on)

    @property
    def source_rule(self) -> str:
        return f"{self.rule}:{self.threshold}d"

    @property
    def source_object(self) -> str:
        return f"{self.object_type}:{self.object_id}:{self.fires_on.isoformat()}"


@dataclass
class RaiseResult:
    alerts: int = 0
    tasks: int = 0
    notifications: int = 0


_PLACEHOLDER = 987654321
# A digest lists this many items, most urgent first; the rest are on the alert list.
DIGEST_LINES = 25


def customer_url(customer_id: int) -> str:
    """Absolute link to the customer page (for emails); reversed once, not once per alert."""
    template = settings.FINPULSE_SITE_URL.rstrip("/") + reverse("customers:detail", args=[_PLACEHOLDER])
    return template.replace(str(_PLACEHOLDER), str(customer_id))


def customer_path(customer_id: int) -> str:
    """The customer page as a path on this site (in-app links open on the request's host)."""
    return reverse("customers:detail", args=[customer_id])


def _relaxed_commit() -> None:
    """A scan batch need not wait for its WAL flush: if the server crashes right after, the
    batch (alerts, tasks and their outbox rows together) is lost whole and the next scan
    writes it again, while outbox dispatch of a lost row finds nothing and does nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


@transaction.atomic
def raise_alerts(*, candidates: Sequence[Candidate]) -> RaiseResult:
    """Create what is new among `candidates` (all of one rule and object type).

    The alerts' work (follow-up tasks, the manager's notifications) is written afterwards by
    settle_alerts, once the scan knows how much each manager has (one by one, or a digest).
    Customer notices go out per holding, with the alert.
    """
    result = RaiseResult()
    if not candidates:
        return result
    rule, object_type = candidates[0].rule, candidates[0].object_type
    if any(c.rule != rule or c.object_type != object_type for c in candidates):
        raise ValueError("raise_alerts takes one rule and object type per batch.")
    existing = set(
        Alert.objects.filter(
            rule=rule, object_type=object_type, object_id__in={c.object_id for c in candidates}
        ).values_list("object_id", "threshold", "fires_on")
    )
    new: dict[tuple[int, int, dt.date], Candidate] = {}
    for candidate in candidates:
        if candidate.key not in existing:
            new.setdefault(candidate.key, candidate)
    if not new:
        return result
    _relaxed_commit()

    alerts = Alert.objects.bulk_create(
        [
            Alert(
                customer_id=c.customer_id,
                rule=c.rule,
                threshold=c.threshold,
                object_type=c.object_type,
                object_id=c.object_id,
                fires_on=c.fires_on,
                title=c.title[:200],
                reason=c.reason[:300],
                details={**c.details, **({"followup": c.followup} if c.followup else {})},
                due_on=c.due_on,
                amount=abs(c.amount) if c.amount is not None else None,
                manager_id=c.manager_id,
            )
            for c in new.values()
        ]
    )

    rows = []
    for alert, c in zip(alerts, new.values(), strict=True):
        if c.customer_notice:
            subject, body = c.customer_notice
            rows += build_customer_notifications(
                customer_id=c.customer_id,
                channels_on=settings.FINPULSE_CUSTOMER_NOTICE_CHANNELS,
                kind="customer_maturity",
                obj=f"{c.object_type}:{c.object_id}",
                threshold=c.threshold,
                on=c.fires_on,
                subject=subject,
                body=body,
                extra={"alert_id": alert.pk},
            )
    created = enqueue_notifications(rows)

    record_audit_events(
        AuditEntry(
            action="alert.raised",
            target=alert,
            customer_id=alert.customer_id,
            metadata={"rule": alert.rule, "threshold": alert.threshold, "fires_on": alert.fires_on.isoformat()},
        )
        for alert in alerts
    )
    result.alerts, result.notifications = len(alerts), len(created)
    return result


# --- the work an alert brings: follow-up tasks and the manager's notifications ---------------


@dataclass
class SettleResult:
    managers: int = 0
    digests: int = 0
    tasks: int = 0
    notifications: int = 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _when(alert: Alert, today: dt.date) -> str:
    return alert.when(today) or f"since {alert.fires_on:%d %b %Y}"


def _task_for_alert(alert: Alert, today: dt.date) -> Task | None:
    followup = alert.details.get("followup") if isinstance(alert.details, dict) else None
    if not followup:
        return None
    due = dt.date.fromisoformat(followup["due"]) if followup.get("due") else today
    return Task(
        customer_id=alert.customer_id,
        # settle_alerts marks alerts without a manager first, so every alert settled here has one.
        assignee_id=cast(int, alert.manager_id),
        title=(alert.title or alert.reason)[:200],
        description=f"{alert.reason}\n\nRaised by the {alert.rule} rule at {alert.threshold} days.",
        due_at=business_day_end(max(due, today)),
        priority=int(followup.get("priority") or Task.Priority.NORMAL),
        source=followup["source"],
        source_rule=f"{alert.rule}:{alert.threshold}d",
        source_object=f"{alert.object_type}:{alert.object_id}:{alert.fires_on.isoformat()}",
    )


def _customer_task(alerts: list[Alert], tasks: list[Task]) -> Task:
    """One follow-up for a customer's share of a backlog, listing its items (not one per item)."""
    customer = alerts[0].customer
    header = "Found together by the alert scan:\n"
    lines: list[str] = []
    room = DESCRIPTION_MAX_LENGTH - len(header) - 60  # keeps room for the "and N more" line
    for n, alert in enumerate(alerts):
        line = f"- {alert.title or alert.get_rule_display()}: {alert.reason}"
        if len(line) + 1 > room:
            lines.append(f"… and {_plural(len(alerts) - n, 'more alert')} on the alert list.")
            break
        lines.append(line)
        room -= len(line) + 1
    return Task(
        customer_id=customer.pk,
        assignee_id=cast(int, alerts[0].manager_id),  # as above: only alerts with a manager
        title=f"{customer.display_name}: {_plural(len(alerts), 'alert')} to review"[:200],
        description=header + "\n".join(lines),
        due_at=min(task.due_at for task in tasks),
        priority=max(task.priority for task in tasks),
        source=Task.Source.ALERTS,
        source_rule="alerts:backlog",
        source_object=f"customers.customer:{customer.pk}:alert:{min(a.pk for a in alerts)}",
    )


def _follow_ups(alerts: list[Alert], *, today: dt.date, grouped: bool) -> dict[int, Task]:
    """Unsaved tasks by alert id: one per alert, or in a backlog one per customer with 2+ items."""
    wanted = {alert.pk: task for alert in alerts if (task := _task_for_alert(alert, today)) is not None}
    if not wanted:
        return {}
    taken = set(
        Task.objects.filter(
            source_rule__in={t.source_rule for t in wanted.values()},
            source_object__in={t.source_object for t in wanted.values()},
        ).values_list("source_rule", "source_object")
    )
    wanted = {pk: task for pk, task in wanted.items() if (task.source_rule, task.source_object) not in taken}
    if not grouped:
        return wanted
    by_customer: dict[int, list[Alert]] = defaultdict(list)
    for alert in alerts:
        if alert.pk in wanted:
            by_customer[alert.customer_id].append(alert)
    tasks: dict[int, Task] = {}
    for items in by_customer.values():
        if len(items) == 1:
            tasks[items[0].pk] = wanted[items[0].pk]
            continue
        shared = _customer_task(items, [wanted[alert.pk] for alert in items])
        for alert in items:
            tasks[alert.pk] = shared
    return tasks


def _one_by_one(alerts: list[Alert], manager_id: int) -> list[Any]:
    chosen = chosen_channels(user_ids={manager_id}, kinds={alert.rule for alert in alerts})
    rows = []
    for alert in alerts:
        url, path = customer_url(alert.customer_id), customer_path(alert.customer_id)
        rows += build_user_notifications(
            user_id=manager_id,
            channels_on=chosen[(manager_id, alert.rule)],
            kind=alert.rule,
            obj=f"{alert.object_type}:{alert.object_id}",
            threshold=alert.threshold,
            on=alert.fires_on,
            subject=alert.title or alert.reason,
            body=f"{alert.reason}\n\nCustomer page: {url}",
            url=url,
            extra={"path": path, "alert_id": alert.pk, "customer_id": alert.customer_id},
        )
    return rows


FOLLOW_UP_WORDS: dict[str, str] = {
    Kind.TASK_REMINDER: "follow-up reminder",
    Kind.TASK_DUE_SOON: "follow-up due soon",
    Kind.TASK_OVERDUE: "overdue follow-up",
}


def _digest(
    alerts: list[Alert], manager_id: int, *, today: dt.date, first_run: bool, followups: Counter[str] | None = None
) -> list[Any]:
    """One message per channel listing what was found, most urgent first."""
    if not alerts:
        return _follow_up_digest(manager_id, today=today, followups=followups or Counter())
    path = reverse("alerts:list")
    url = settings.FINPULSE_SITE_URL.rstrip("/") + path
    count = len(alerts)
    by_rule: dict[str, int] = defaultdict(int)
    for alert in alerts:
        by_rule[alert.get_rule_display()] += 1
    shown = alerts[:DIGEST_LINES]
    lines = [f"- {alert.title or alert.reason} ({_when(alert, today)})" for alert in shown]
    if count > len(shown):
        lines.append(f"… and {count - len(shown)} more on your alert list.")
    opening = (
        f"The first alert scan found {_plural(count, 'item')} for you."
        if first_run
        else f"The alert scan found {_plural(count, 'new item')} for you."
    )
    summary = ", ".join(f"{label}: {n}" for label, n in sorted(by_rule.items()))
    body = f"{opening}\n{summary}.\n\nMost urgent first:\n" + "\n".join(lines) + f"\n\nYour alert list: {url}"
    if followups:
        body += f"\n\nAlso on your task list: {_follow_up_summary(followups)}."
    subject = f"{_plural(count, 'alert')} to review" + (" from the first scan" if first_run else "")
    chosen = chosen_channels(user_ids={manager_id}, kinds={Kind.ALERT_DIGEST})
    return build_user_notifications(
        user_id=manager_id,
        channels_on=chosen[(manager_id, Kind.ALERT_DIGEST)],
        kind=Kind.ALERT_DIGEST,
        obj=f"alerts:{min(a.pk for a in alerts)}-{max(a.pk for a in alerts)}",
        threshold=count,
        on=today,
        subject=subject,
        body=body,
        url=url,
        extra={"path": path, "count": count, "by_rule": dict(by_rule)},
    )


def _follow_up_summary(followups: Counter[str]) -> str:
    return ", ".join(_plural(n, FOLLOW_UP_WORDS.get(kind, kind)) for kind, n in sorted(followups.items()) if n)


def _follow_up_digest(manager_id: int, *, today: dt.date, followups: Counter[str]) -> list[Any]:
    """The first scan's digest for a manager with follow-ups to chase but no new alert."""
    path = reverse("tasks:list")
    url = settings.FINPULSE_SITE_URL.rstrip("/") + path
    count = sum(followups.values())
    chosen = chosen_channels(user_ids={manager_id}, kinds={Kind.ALERT_DIGEST})
    return build_user_notifications(
        user_id=manager_id,
        channels_on=chosen[(manager_id, Kind.ALERT_DIGEST)],
        kind=Kind.ALERT_DIGEST,
        obj=f"followups:u{manager_id}",
        threshold=count,
        on=today,
        subject=f"{_plural(count, 'follow-up')} to chase from the first scan",
        body=f"The first scan found on your task list: {_follow_up_summary(followups)}.\n\nYour tasks: {url}",
        url=url,
        extra={"path": path, "count": count, "followups": dict(followups)},
    )


def is_first_run() -> bool:
    """No alert has been settled yet: the very first scan of a book (a fresh install or upgrade)."""
    return settings.FINPULSE_ALERT_DIGEST_FIRST_RUN and not Alert.objects.filter(notified_at__isnull=False).exists()


@transaction.atomic
def _settle_for_manager(
    *, manager_id: int, today: dt.date, first_run: bool, result: SettleResult, followups: Counter[str] | None = None
) -> None:
    _relaxed_commit()
    alerts = list(
        Alert.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(manager_id=manager_id, notified_at__isnull=True)
        .select_related("customer")
        .order_by(F("due_on").asc(nulls_last=True), F("amount").desc(nulls_last=True), "pk")
    )
    if not alerts and not followups:
        return
    backlog = first_run or bool(followups) or len(alerts) > settings.FINPULSE_ALERT_DIGEST_THRESHOLD
    tasks = _follow_ups(alerts, today=today, grouped=backlog)
    new_tasks = list({id(task): task for task in tasks.values()}.values())
    Task.objects.bulk_create(new_tasks)
    rows = (
        _digest(alerts, manager_id, today=today, first_run=first_run, followups=followups)
        if backlog
        else _one_by_one(alerts, manager_id)
    )
    created = enqueue_notifications(rows)
    now = timezone.now()
    for alert in alerts:
        alert.notified_at = now
        alert.task = tasks.get(alert.pk, alert.task)
    Alert.objects.bulk_update(alerts, ["notified_at", "task"])
    record_audit_events(
        AuditEntry(
            action="task.created",
            target=task,
            customer_id=task.customer_id,
            metadata={"assignee": task.assignee_id, "source": task.source, "rule": task.source_rule},
        )
        for task in new_tasks
    )
    result.managers += 1
    result.digests += int(backlog and bool(created))
    result.tasks += len(new_tasks)
    result.notifications += len(created)


def settle_alerts(
    *, today: dt.date | None = None, first_run: bool | None = None, folded: dict[int, Counter[str]] | None = None
) -> SettleResult:
    """Give new alerts their work, one transaction per manager: follow-up tasks and notifications.

    A manager with more than FINPULSE_ALERT_DIGEST_THRESHOLD new alerts (a backlog), or any
    manager on the first run, gets one digest per channel instead of one message per alert, and
    a customer with several items gets one task listing them. An alert is settled once
    (notified_at), so a crash between raising and settling only delays the work to the next scan.
    """
    today = today or business_today()
    first_run = is_first_run() if first_run is None else first_run
    folded = folded or {}
    result = SettleResult()
    Alert.objects.filter(notified_at__isnull=True, manager__isnull=True).update(notified_at=timezone.now())
    managers = (
        Alert.objects.filter(notified_at__isnull=True)
        .order_by("manager_id")
        .values_list("manager_id", flat=True)
        .distinct()
    )
    for manager_id in sorted(set(managers) | set(folded)):
        _settle_for_manager(
            manager_id=manager_id, today=today, first_run=first_run, result=result, followups=folded.get(manager_id)
        )
    return result


@dataclass
class Reminder:
    """A notification about existing work (a follow-up's reminder, due time, overdue)."""

    user_id: int
    kind: str
    obj: str
    threshold: int | str
    on: str
    subject: str
    body: str
    url: str


@transaction.atomic
def send_reminders(*, reminders: Sequence[Reminder], folded: dict[int, Counter[str]] | None = None) -> int:
    """Outbox rows for follow-up reminders; the dedupe key makes a second scan a no-op.

    With `folded` (the first scan), nothing is sent one by one: the rows are stored as carried
    by the manager's digest, and `folded` counts them per manager and kind for that digest.
    """
    chosen = chosen_channels(user_ids={r.user_id for r in reminders}, kinds={r.kind for r in reminders})
    rows = []
    owners: dict[str, Reminder] = {}
    for r in reminders:
        built = build_user_notifications(
            user_id=r.user_id,
            channels_on=chosen[(r.user_id, r.kind)],
            kind=r.kind,
            obj=r.obj,
            threshold=r.threshold,
            on=r.on,
            subject=r.subject,
            body=f"{r.body}\n\n{r.url}",
            url=r.url,
        )
        owners.update({row.dedupe_key: r for row in built})
        rows += built
    if folded is None:
        return len(enqueue_notifications(rows))
    covered = record_covered_notifications(rows, reason="Listed in the first scan's digest.")
    for reminder in {id(owners[row.dedupe_key]): owners[row.dedupe_key] for row in covered}.values():
        folded[reminder.user_id][reminder.kind] += 1
    return 0


@transaction.atomic
def wake_snoozed_alerts(*, today: dt.date | None = None) -> int:
    """A snoozed alert is open again on its snooze date."""
    today = today or business_today()
    woken = list(
        Alert.objects.select_for_update(skip_locked=True)
        .filter(status=Alert.Status.SNOOZED, snoozed_until__lte=today)
        .values_list("pk", "customer_id")[:5000]
    )
    if not woken:
        return 0
    Alert.objects.filter(pk__in=[pk for pk, _ in woken]).update(status=Alert.Status.OPEN)
    record_audit_events(
        AuditEntry(action="alert.reopened", object_type="alerts.alert", object_id=pk, customer_id=customer_id)
        for pk, customer_id in woken
    )
    return len(woken)


# --- a manager handles an alert -------------------------------------------------------------


def _locked(alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status == Alert.Status.DISMISSED:
        raise Conflict(_("This alert was dismissed."))
    return alert


def _handled(alert: Alert, *, actor: User | None, status: str, reason: str, action: str, **extra: Any) -> Alert:
    before = alert.status
    alert.status = status
    alert.status_reason = reason.strip()[:300]
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    for name, value in extra.items():
        setattr(alert, name, value)
    alert.save(update_fields=["status", "status_reason", "handled_by", "handled_at", *extra])
    record_audit_event(
        actor=actor,
        action=action,
        target=alert,
        changes={"status": [before, status]},
        metadata={"reason": alert.status_reason, **{k: str(v) for k, v in extra.items()}},
    )
    return alert


@transaction.atomic
def acknowledge_alert(*, actor: User | None, alert: Alert, reason: str = "") -> Alert:
    ensure_can_edit(actor)
    alert = _locked(alert)
    return _handled(
        alert,
        actor=actor,
        status=Alert.Status.ACKNOWLEDGED,
        reason=reason,
        action="alert.acknowledged",
        snoozed_until=None,
    )


@transaction.atomic
def snooze_alert(*, actor: User | None, alert: Alert, until: dt.date, reason: str = "") -> Alert:
    """Hide an alert until a date (after today, within a year); it reopens on that date."""
    ensure_can_edit(actor)
    today = business_today()
    if until <= today:
        raise DomainError(_("Snooze until a date after today."), field="until")
    if until > today + dt.timedelta(days=365):
        raise DomainError(_("An alert can be snoozed for a year at most."), field="until")
    alert = _locked(alert)
    return _handled(
        alert, actor=actor, status=Alert.Status.SNOOZED, reason=reason, action="alert.snoozed", snoozed_until=until
    )


@transaction.atomic
def dismiss_alert(*, actor: User | None, alert: Alert, reason: str) -> Alert:
    """Dismissing needs a reason: the auditor asks why a maturity was not followed up."""
    ensure_can_edit(actor)
    if not (reason or "").strip():
        raise DomainError(_("Say why you dismiss this alert."), field="reason")
    alert = _locked(alert)
    return _handled(
        alert, actor=actor, status=Alert.Status.DISMISSED, reason=reason, action="alert.dismissed", snoozed_until=None
    )


def grouped_by_rule(candidates: Sequence[Candidate]) -> dict[tuple[str, str], list[Candidate]]:
    groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[(candidate.rule, candidate.object_type)].append(candidate)
    return groups


ACTIVE_STATES = (Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED, Alert.Status.SNOOZED)


def handed_over_alerts(*, previous_managers: dict[int, int | None]) -> QuerySet[Alert]:
    """Active alerts that follow their customer to a new manager: those addressed to the previous one."""
    by_manager: dict[int, list[int]] = {}
    for customer_id, manager_id in previous_managers.items():
        if manager_id is not None:
            by_manager.setdefault(manager_id, []).append(customer_id)
    if not by_manager:
        return Alert.objects.none()
    addressed = Q()
    for manager_id, customer_ids in by_manager.items():
        addressed |= Q(manager_id=manager_id, customer_id__in=customer_ids)
    return Alert.objects.filter(addressed, status__in=ACTIVE_STATES)


@transaction.atomic
def hand_over_alerts(*, actor: User | None, previous_managers: dict[int, int | None], manager: User) -> int:
    """Address the previous manager's active alerts on these customers to the new manager (audited)."""
    return hand_over_rows(
        handed_over_alerts(previous_managers=previous_managers),
        field="manager",
        to=manager,
        actor=actor,
        action="alert.reassigned",
        reason="portfolio move",
    )
