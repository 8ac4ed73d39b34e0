"""Every write to follow-up tasks: transactional, validated, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError
from apps.customers.models import Customer
from apps.customers.services import ensure_can_edit, raise_as_domain_error
from apps.tasks.models import Task


def _validate(task: Task) -> None:
    if task.reminder_at and task.due_at and task.reminder_at > task.due_at:
        raise DomainError("The reminder must come before the due time.", field="reminder_at")
    try:
        task.full_clean(exclude=["customer", "assignee", "created_by"])
    except ValidationError as error:
        raise_as_domain_error(error)


@transaction.atomic
def create_task(
    *,
    actor: Any,
    customer: Customer,
    assignee: Any,
    title: str,
    due_at: dt.datetime,
    priority: int = Task.Priority.NORMAL,
    reminder_at: dt.datetime | None = None,
    description: str = "",
    source: str = Task.Source.MANUAL,
    source_rule: str = "",
    source_object: str = "",
) -> Task:
    ensure_can_edit(actor)
    task = Task(
        customer=customer,
        assignee=assignee,
        created_by=actor if getattr(actor, "pk", None) else None,
        title=(title or "").strip(),
        description=description,
        due_at=due_at,
        reminder_at=reminder_at,
        priority=priority,
        source=source,
        source_rule=source_rule,
        source_object=source_object,
    )
    _validate(task)
    task.save()
    record_audit_event(
        actor=actor,
        action="task.created",
        target=task,
        metadata={"assignee": assignee.pk, "due_at": due_at.isoformat(), "source": source, "rule": source_rule},
    )
    return task


@transaction.atomic
def complete_task(*, actor: Any, task: Task, outcome: str = "") -> Task:
    ensure_can_edit(actor)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != Task.Status.OPEN:
        raise Conflict("This task is no longer open.")
    task.status = Task.Status.DONE
    task.outcome = outcome
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "outcome", "completed_at", "updated_at"])
    record_audit_event(actor=actor, action="task.completed", target=task, metadata={"outcome": outcome})
    return task


@transaction.atomic
def reschedule_task(*, actor: Any, task: Task, due_at: dt.datetime, reminder_at: dt.datetime | None = None) -> Task:
    ensure_can_edit(actor)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != Task.Status.OPEN:
        raise Conflict("Only an open task can be rescheduled.")
    before = task.due_at
    task.due_at, task.reminder_at = due_at, reminder_at
    _validate(task)
    task.save(update_fields=["due_at", "reminder_at", "updated_at"])
    record_audit_event(actor=actor, action="task.rescheduled", target=task, changes={"due_at": [before, due_at]})
    return task


@transaction.atomic
def reassign_task(*, actor: Any, task: Task, assignee: Any) -> Task:
    ensure_can_edit(actor)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != Task.Status.OPEN:
        raise Conflict("Only an open task can be reassigned.")
    if not assignee.is_active:
        raise DomainError("Tasks can only be assigned to an active employee.", field="assignee")
    before = task.assignee_id
    task.assignee = assignee
    task.save(update_fields=["assignee", "updated_at"])
    record_audit_event(actor=actor, action="task.reassigned", target=task, changes={"assignee": [before, assignee.pk]})
    return task
