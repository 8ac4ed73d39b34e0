"""Task services: one audit event each; bad input refused readably, nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.tasks.models import Task
from apps.tasks.services import (
    cancel_task,
    complete_task,
    create_task,
    reassign_task,
    reschedule_task,
    update_task_details,
)
from tests.customers.factories import CustomerFactory
from tests.identity.factories import UserFactory
from tests.tasks.factories import TaskFactory

TOMORROW = dt.timedelta(days=1)


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def task(manager, branch):
    return TaskFactory(customer=CustomerFactory(assigned_to=manager, branch=branch))


SERVICE_CASES: dict[str, tuple[Callable[..., Task], str]] = {
    "create_task": (
        lambda task, manager, other: create_task(
            actor=manager,
            customer=task.customer,
            assignee=manager,
            title="Discuss ISA allowance",
            due_at=timezone.now() + TOMORROW,
        ),
        "task.created",
    ),
    "complete_task": (
        lambda task, manager, other: complete_task(actor=manager, task=task, outcome="Done"),
        "task.completed",
    ),
    "reschedule_task": (
        lambda task, manager, other: reschedule_task(actor=manager, task=task, due_at=task.due_at + TOMORROW),
        "task.rescheduled",
    ),
    "update_task_details": (
        lambda task, manager, other: update_task_details(actor=manager, task=task, title="Renewal call", priority=3),
        "task.updated",
    ),
    "cancel_task": (
        lambda task, manager, other: cancel_task(actor=manager, task=task, reason="Duplicate"),
        "task.cancelled",
    ),
    "reassign_task": (
        lambda task, manager, other: reassign_task(actor=manager, task=task, assignee=other),
        "task.reassigned",
    ),
}


@pytest.mark.parametrize("case", list(SERVICE_CASES))
def test_each_task_service_writes_exactly_one_audit_event(task, manager, branch_manager, case):
    call, action = SERVICE_CASES[case]
    after = last_event_id()

    # The branch's manager can see the customer, so a task may be handed to them.
    result = call(task, manager, branch_manager)

    events = list(AuditEvent.objects.filter(id__gt=after))
    assert [e.action for e in events] == [action]
    assert events[0].object_type == "tasks.task"
    assert events[0].object_id == str(result.pk)
    assert events[0].customer_id == task.customer_id
    assert events[0].actor_id == manager.pk


def test_an_edit_that_changes_nothing_records_nothing(task, manager):
    after = last_event_id()

    update_task_details(actor=manager, task=task, title=task.title)

    assert not AuditEvent.objects.filter(id__gt=after).exists()


def test_completing_a_task_records_who_and_when(task, manager):
    complete_task(actor=manager, task=task, outcome="Customer renewed")

    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_at is not None
    assert task.outcome == "Customer renewed"


def counts() -> dict[str, int]:
    return {"tasks": Task.objects.count(), "events": AuditEvent.objects.count()}


BAD_INPUT: dict[str, tuple[Callable[..., object], type[DomainError], str]] = {
    "a reminder after the due time": (
        lambda task, manager: create_task(
            actor=manager,
            customer=task.customer,
            assignee=manager,
            title="Call",
            due_at=timezone.now() + TOMORROW,
            reminder_at=timezone.now() + 2 * TOMORROW,
        ),
        DomainError,
        "The reminder must come before the due time.",
    ),
    "a blank title": (
        lambda task, manager: create_task(
            actor=manager, customer=task.customer, assignee=manager, title="   ", due_at=timezone.now() + TOMORROW
        ),
        DomainError,
        "cannot be blank",
    ),
    "an unknown priority": (
        lambda task, manager: create_task(
            actor=manager,
            customer=task.customer,
            assignee=manager,
            title="Call",
            due_at=timezone.now() + TOMORROW,
            priority=9,
        ),
        DomainError,
        "is not a valid choice",
    ),
    "rescheduling with the reminder after the due time": (
        lambda task, manager: reschedule_task(
            actor=manager, task=task, due_at=task.due_at, reminder_at=task.due_at + TOMORROW
        ),
        DomainError,
        "The reminder must come before the due time.",
    ),
    "an edit to a blank title": (
        lambda task, manager: update_task_details(actor=manager, task=task, title="  "),
        DomainError,
        "cannot be blank",
    ),
    "reassigning to an inactive employee": (
        lambda task, manager: reassign_task(
            actor=manager, task=task, assignee=UserFactory(roles=[roles.RELATIONSHIP_MANAGER], is_active=False)
        ),
        DomainError,
        "Tasks can only be assigned to an active employee.",
    ),
    "reassigning to a manager who cannot see the customer": (
        lambda task, manager: reassign_task(
            actor=manager, task=task, assignee=UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
        ),
        DomainError,
        "cannot see the customer",
    ),
    "a compliance officer creating a task": (
        lambda task, manager: create_task(
            actor=UserFactory(roles=[roles.COMPLIANCE_OFFICER]),
            customer=task.customer,
            assignee=manager,
            title="Call",
            due_at=timezone.now() + TOMORROW,
        ),
        PermissionDenied,
        "may read customers but not change them",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_task_input_is_refused_readably_and_nothing_is_written(task, manager, case):
    call, error_class, message = BAD_INPUT[case]
    before = counts()
    original = Task.objects.values().get(pk=task.pk)

    with pytest.raises(error_class) as refused:
        call(task, manager)

    assert message in str(refused.value)
    assert counts() == before
    assert Task.objects.values().get(pk=task.pk) == original


@pytest.mark.parametrize("service", [complete_task, reschedule_task, reassign_task, cancel_task, update_task_details])
def test_a_closed_task_cannot_be_changed_again(task, manager, other_manager, service):
    complete_task(actor=manager, task=task, outcome="Done")
    before = counts()
    arguments = {
        complete_task: {},
        cancel_task: {},
        update_task_details: {"title": "Too late"},
        reschedule_task: {"due_at": task.due_at},
        reassign_task: {"assignee": other_manager},
    }

    with pytest.raises(Conflict, match=r"open task|no longer open"):
        service(actor=manager, task=task, **arguments[service])

    assert counts() == before
