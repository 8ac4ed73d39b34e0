"""Every write to alerts: raising them in bulk (scans) and a manager handling them.

Raising is the bulk path of a scan batch, in one transaction: the alerts, the follow-up
tasks they create (once per object, rule and threshold: the tasks' unique constraint on
(source_rule, source_object)), the notifications (outbox rows, dispatched after commit)
and one audit event per alert and per task, recorded together under one chain lock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.alerts.models import Alert
from apps.core.audit import AuditEntry, record_audit_event, record_audit_events
from apps.core.business_date import business_day_end, business_today
from apps.core.errors import Conflict, DomainError
from apps.customers.services import ensure_can_edit
from apps.notifications.selectors import chosen_channels
from apps.notifications.services import (
    build_customer_notifications,
    build_user_notifications,
    enqueue_notifications,
)
from apps.tasks.models import Task


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


def customer_url(customer_id: int) -> str:
    """Absolute link to the customer page (for emails); reversed once, not once per alert."""
    template = settings.FINPULSE_SITE_URL.rstrip("/") + reverse("customers:detail", args=[_PLACEHOLDER])
    return template.replace(str(_PLACEHOLDER), str(customer_id))


def _relaxed_commit() -> None:
    """A scan batch need not wait for its WAL flush: if the server crashes right after, the
    batch (alerts, tasks and their outbox rows together) is lost whole and the next scan
    writes it again, while outbox dispatch of a lost row finds nothing and does nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


@transaction.atomic
def raise_alerts(*, candidates: Sequence[Candidate]) -> RaiseResult:
    """Create what is new among `candidates` (all of one rule and object type), with its work."""
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
    today = business_today()

    # Follow-up tasks: skip those a previous run (or a person) already created for the same key.
    wants_task = [c for c in new.values() if c.task_source]
    taken = set(
        Task.objects.filter(
            source_rule__in={c.source_rule for c in wants_task}, source_object__in={c.source_object for c in wants_task}
        ).values_list("source_rule", "source_object")
    )
    tasks: dict[tuple[int, int, dt.date], Task] = {}
    for c in wants_task:
        if (c.source_rule, c.source_object) in taken:
            continue
        tasks[c.key] = Task(
            customer_id=c.customer_id,
            assignee_id=c.manager_id,
            title=c.title[:200],
            description=f"{c.reason}\n\nRaised by the {c.rule} rule at {c.threshold} days.",
            due_at=business_day_end(max(c.task_due or today, today)),
            priority=c.task_priority,
            source=c.task_source,
            source_rule=c.source_rule,
            source_object=c.source_object,
        )
    Task.objects.bulk_create(tasks.values())

    alerts = Alert.objects.bulk_create(
        [
            Alert(
                customer_id=c.customer_id,
                rule=c.rule,
                threshold=c.threshold,
                object_type=c.object_type,
                object_id=c.object_id,
                fires_on=c.fires_on,
                reason=c.reason[:300],
                details=c.details,
                due_on=c.due_on,
                amount=abs(c.amount) if c.amount is not None else None,
                manager_id=c.manager_id,
                task=tasks.get(key),
            )
            for key, c in new.items()
        ]
    )

    # Notifications to the manager on the channels they chose, and optional customer notices.
    kinds = {c.notification_kind for c in new.values()}
    chosen = chosen_channels(user_ids={c.manager_id for c in new.values()}, kinds=kinds)
    rows = []
    for alert, c in zip(alerts, new.values(), strict=True):
        url = customer_url(c.customer_id)
        rows += build_user_notifications(
            user_id=c.manager_id,
            channels_on=chosen[(c.manager_id, c.notification_kind)],
            kind=c.notification_kind,
            obj=f"{c.object_type}:{c.object_id}",
            threshold=c.threshold,
            on=c.fires_on,
            subject=c.title,
            body=f"{c.reason}\n\nCustomer page: {url}",
            url=url,
            extra={"alert_id": alert.pk, "customer_id": c.customer_id},
        )
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

    entries = [
        AuditEntry(
            action="alert.raised",
            target=alert,
            customer_id=alert.customer_id,
            metadata={"rule": alert.rule, "threshold": alert.threshold, "fires_on": alert.fires_on.isoformat()},
        )
        for alert in alerts
    ]
    entries += [
        AuditEntry(
            action="task.created",
            target=task,
            customer_id=task.customer_id,
            metadata={"assignee": task.assignee_id, "source": task.source, "rule": task.source_rule},
        )
        for task in tasks.values()
    ]
    record_audit_events(entries)
    result.alerts, result.tasks, result.notifications = len(alerts), len(tasks), len(created)
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
def send_reminders(*, reminders: Sequence[Reminder]) -> int:
    """Outbox rows for follow-up reminders; the dedupe key makes a second scan a no-op."""
    chosen = chosen_channels(user_ids={r.user_id for r in reminders}, kinds={r.kind for r in reminders})
    rows = []
    for r in reminders:
        rows += build_user_notifications(
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
    return len(enqueue_notifications(rows))


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
        raise Conflict("This alert was dismissed.")
    return alert


def _handled(alert: Alert, *, actor: Any, status: str, reason: str, action: str, **extra: Any) -> Alert:
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
def acknowledge_alert(*, actor: Any, alert: Alert, reason: str = "") -> Alert:
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
def snooze_alert(*, actor: Any, alert: Alert, until: dt.date, reason: str = "") -> Alert:
    """Hide an alert until a date (after today, within a year); it reopens on that date."""
    ensure_can_edit(actor)
    today = business_today()
    if until <= today:
        raise DomainError("Snooze until a date after today.", field="until")
    if until > today + dt.timedelta(days=365):
        raise DomainError("An alert can be snoozed for a year at most.", field="until")
    alert = _locked(alert)
    return _handled(
        alert, actor=actor, status=Alert.Status.SNOOZED, reason=reason, action="alert.snoozed", snoozed_until=until
    )


@transaction.atomic
def dismiss_alert(*, actor: Any, alert: Alert, reason: str) -> Alert:
    """Dismissing needs a reason: the auditor asks why a maturity was not followed up."""
    ensure_can_edit(actor)
    if not (reason or "").strip():
        raise DomainError("Say why you dismiss this alert.", field="reason")
    alert = _locked(alert)
    return _handled(
        alert, actor=actor, status=Alert.Status.DISMISSED, reason=reason, action="alert.dismissed", snoozed_until=None
    )


def grouped_by_rule(candidates: Sequence[Candidate]) -> dict[tuple[str, str], list[Candidate]]:
    groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[(candidate.rule, candidate.object_type)].append(candidate)
    return groups
