"""Every write to follow-up tasks: transactional, validated, audited."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import hand_over_rows, record_audit_event
from apps.core.errors import Conflict, DomainError, raise_as_domain_error
from apps.customers.models import Customer
from apps.customers.visibility import ensure_can_edit
from apps.tasks.models import Task
from apps.tasks.selectors import can_be_assigned

if TYPE_CHECKING:
    from apps.identity.models import User


def _validate(task: Task) -> None:
    if task.reminder_at and task.due_at and task.reminder_at > task.due_at:
        raise DomainError(_("The reminder must come before the due time."), field="reminder_at")
    try:
        task.full_clean(exclude=["customer", "assignee", "created_by"], validate_constraints=False)
    except ValidationError as error:
        raise_as_domain_error(error)


def _ensure_assignable(assignee: User, customer: Customer) -> None:
    """A task is never handed to someone who cannot open its customer."""
    if not can_be_assigned(user=assignee, customer=customer):
        raise DomainError(
            _("This person cannot see the customer, so the task cannot be assigned to them."), field="assignee"
        )


@transaction.atomic
def create_task(
    *,
    actor: User | None,
    customer: Customer,
    assignee: User,
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
    if actor is not None:
        _ensure_assignable(assignee, customer)
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


def _locked_open_task(*, actor: User | None, task: Task, refusal: str) -> Task:
    """The task, locked for the caller's transaction, when the actor may edit and it is still
    open; a task done or cancelled meanwhile is a Conflict saying `refusal`."""
    ensure_can_edit(actor)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != Task.Status.OPEN:
        raise Conflict(refusal)
    return task


@transaction.atomic
def complete_task(*, actor: User | None, task: Task, outcome: str = "") -> Task:
    task = _locked_open_task(actor=actor, task=task, refusal=_("This task is no longer open."))
    task.status = Task.Status.DONE
    task.outcome = outcome
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "outcome", "completed_at", "updated_at"])
    record_audit_event(actor=actor, action="task.completed", target=task, metadata={"outcome": outcome})
    return task


@transaction.atomic
def reschedule_task(
    *, actor: User | None, task: Task, due_at: dt.datetime, reminder_at: dt.datetime | None = None
) -> Task:
    task = _locked_open_task(actor=actor, task=task, refusal=_("Only an open task can be rescheduled."))
    before = task.due_at
    task.due_at, task.reminder_at = due_at, reminder_at
    _validate(task)
    task.save(update_fields=["due_at", "reminder_at", "updated_at"])
    record_audit_event(actor=actor, action="task.rescheduled", target=task, changes={"due_at": [before, due_at]})
    return task


@transaction.atomic
def reassign_task(*, actor: User | None, task: Task, assignee: User) -> Task:
    task = _locked_open_task(actor=actor, task=task, refusal=_("Only an open task can be reassigned."))
    if not assignee.is_active:
        raise DomainError(_("Tasks can only be assigned to an active employee."), field="assignee")
    _ensure_assignable(assignee, task.customer)
    before = task.assignee_id
    task.assignee = assignee
    task.save(update_fields=["assignee", "updated_at"])
    record_audit_event(actor=actor, action="task.reassigned", target=task, changes={"assignee": [before, assignee.pk]})
    return task


@transaction.atomic
def update_task_details(
    *,
    actor: User | None,
    task: Task,
    title: str | None = None,
    description: str | None = None,
    priority: int | None = None,
) -> Task:
    """Edit what a task says and how urgent it is; its customer and origin stay as recorded."""
    task = _locked_open_task(actor=actor, task=task, refusal=_("Only an open task can be edited."))
    before = {"title": task.title, "description": task.description, "priority": task.priority}
    if title is not None:
        task.title = title.strip()
    if description is not None:
        task.description = description
    if priority is not None:
        task.priority = priority
    after = {"title": task.title, "description": task.description, "priority": task.priority}
    # A task's words are about a person: the chain records that they changed, never what they say.
    changes = {
        name: ["[text]", "[text changed]"] if name in ("title", "description") else [before[name], after[name]]
        for name in after
        if before[name] != after[name]
    }
    if not changes:
        return task
    _validate(task)
    task.save(update_fields=["title", "description", "priority", "updated_at"])
    record_audit_event(actor=actor, action="task.updated", target=task, changes=changes)
    return task


@transaction.atomic
def cancel_task(*, actor: User | None, task: Task, reason: str = "") -> Task:
    """Cancel an open task (tasks are kept for the record, never deleted)."""
    task = _locked_open_task(actor=actor, task=task, refusal=_("This task is no longer open."))
    task.status = Task.Status.CANCELLED
    task.outcome = reason
    task.save(update_fields=["status", "outcome", "updated_at"])
    record_audit_event(actor=actor, action="task.cancelled", target=task, metadata={"reason": reason})
    return task


def handed_over_tasks(*, previous_managers: dict[int, int | None]) -> QuerySet[Task]:
    """Open tasks that follow their customer to a new manager: those the previous manager held.

    `previous_managers` maps a customer id to its manager before the move. A task someone else
    holds (a branch manager's escalation, a colleague's call) stays where it is.
    """
    by_manager: dict[int, list[int]] = {}
    for customer_id, manager_id in previous_managers.items():
        if manager_id is not None:
            by_manager.setdefault(manager_id, []).append(customer_id)
    if not by_manager:
        return Task.objects.none()
    held = Q()
    for manager_id, customer_ids in by_manager.items():
        held |= Q(assignee_id=manager_id, customer_id__in=customer_ids)
    return Task.objects.filter(held, status=Task.Status.OPEN)


@transaction.atomic
def hand_over_tasks(*, actor: User | None, previous_managers: dict[int, int | None], manager: User) -> int:
    """Give the new manager the open tasks the previous manager held on these customers.

    Part of a portfolio move (apps.workspace.portfolio): the previous manager no longer sees the
    customer, so a task left with them would be worked by nobody. One audit event per task.
    """
    return hand_over_rows(
        handed_over_tasks(previous_managers=previous_managers),
        field="assignee",
        to=manager,
        actor=actor,
        action="task.reassigned",
        reason="portfolio move",
        updated_at=timezone.now(),
    )
