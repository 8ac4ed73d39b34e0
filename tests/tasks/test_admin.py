"""Task admin: rows through the tasks selector, every change through the task services."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.tasks.models import Task
from tests.admin_support import admin_is_closed_to, admin_ready  # noqa: F401
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

CHANGELIST = "admin:tasks_task_changelist"


def change_url(task: Task) -> str:
    return reverse("admin:tasks_task_change", args=[task.pk])


def task_data(task: Task, **overrides: object) -> dict[str, object]:
    local = timezone.localtime(task.due_at)
    data: dict[str, object] = {
        "assignee": task.assignee_id,
        "title": task.title,
        "description": task.description,
        "due_at_0": local.strftime("%Y-%m-%d"),
        "due_at_1": local.strftime("%H:%M:%S"),
        "reminder_at_0": "",
        "reminder_at_1": "",
        "priority": task.priority,
        "status": task.status,
        "outcome": "",
    }
    data.update(overrides)
    return data


def test_managers_work_on_tasks_in_the_app_not_the_admin(client, manager):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))

    assert admin_is_closed_to(client, manager, reverse(CHANGELIST))
    assert admin_is_closed_to(client, manager, change_url(task))


@pytest.mark.parametrize("tasks", [3, 30])
def test_the_task_changelist_queries_stay_flat(client, administrator, manager, tasks, django_assert_max_num_queries):
    customer = CustomerFactory(assigned_to=manager)
    for _ in range(tasks):
        TaskFactory(customer=customer)
    client.force_login(administrator)

    with django_assert_max_num_queries(13):
        response = client.get(reverse(CHANGELIST))

    assert len(response.context["cl"].result_list) == tasks


def test_completing_a_task_in_the_admin_goes_through_the_service(client, administrator, manager):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))
    client.force_login(administrator)

    response = client.post(change_url(task), task_data(task, status="done", outcome="Called back"))

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "Called back")
    assert AuditEvent.objects.filter(action="task.completed", object_id=str(task.pk)).count() == 1


def test_reopening_a_closed_task_is_a_form_error(client, administrator, manager):
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager))
    client.force_login(administrator)
    client.post(change_url(task), task_data(task, status="cancelled", outcome="Customer declined"))
    task.refresh_from_db()

    response = client.post(change_url(task), task_data(task, status="open"))

    assert response.status_code == 200
    assert "A closed task is not reopened" in response.text
    task.refresh_from_db()
    assert task.status == "cancelled"
