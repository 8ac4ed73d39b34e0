"""Honest due dates: a rule's task is due at the end of its deadline's business day, never
in the past when created, never reported overdue the day it was created; the list shows
overdue tasks and its counts refresh after an action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.alerts.scans import business_now, run_scans
from apps.core.business_date import business_day_end
from apps.notifications.models import Kind, Notification
from apps.tasks.models import Task
from apps.tasks.selectors import my_task_counts
from tests.alerts.support import TODAY, customer, deposit, deposit_product
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_task_raised_for_a_deposit_maturing_tomorrow_is_due_at_the_end_of_today(settings, manager):
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    settings.FINPULSE_MATURITY_THRESHOLDS = {"deposit": [30, 7, 1]}
    deposit(customer(manager), deposit_product(), 1)

    run_scans(only={"maturity"})

    task = Task.objects.get(source=Task.Source.MATURITY)
    local_due = timezone.localtime(task.due_at)
    assert local_due.date() == TODAY
    assert (local_due.hour, local_due.minute, local_due.second) == (23, 59, 59)
    assert task.due_at == business_day_end(TODAY)
    assert task.due_at > business_now(TODAY)
    assert not task.is_overdue
    assert my_task_counts(user=manager, today=TODAY)["today"] == 1


def test_a_task_created_today_is_not_reported_overdue_the_same_day(manager, settings):
    settings.FINPULSE_ALERT_DIGEST_FIRST_RUN = False  # messages one by one, not a first scan's digest
    # Created now and already past its due time (due an hour ago): today's work, not "overdue".
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager), due_at=timezone.now() - dt.timedelta(hours=1))

    run_scans(only={"followups"})

    assert not Notification.objects.filter(kind=Kind.TASK_OVERDUE, dedupe_key__contains=f"tasks.task:{task.pk}:")


def test_a_task_created_on_an_earlier_day_is_reported_overdue(manager, settings):
    settings.FINPULSE_ALERT_DIGEST_FIRST_RUN = False
    task = TaskFactory(customer=CustomerFactory(assigned_to=manager), due_at=timezone.now() - dt.timedelta(hours=1))
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - dt.timedelta(days=2))

    run_scans(only={"followups"})

    overdue = Notification.objects.filter(kind=Kind.TASK_OVERDUE, dedupe_key__contains=f"tasks.task:{task.pk}:")
    assert overdue.filter(status=Notification.Status.SENT).exists()


def test_the_task_list_marks_overdue_tasks(client, manager):
    owner = CustomerFactory(assigned_to=manager)
    late = TaskFactory(customer=owner, title="Late one", due_at=timezone.now() - dt.timedelta(days=2))
    TaskFactory(customer=owner, title="Fine one", due_at=timezone.now() + dt.timedelta(days=2))
    client.force_login(manager)

    page = client.get(reverse("tasks:list")).content.decode()

    row = page[page.index(f'id="task-{late.pk}"') - 10 : page.index("Late one")]
    assert "is-overdue" in row
    assert page.count("badge--overdue") == 1


def test_the_counts_refresh_after_a_task_is_done(client, manager):
    owner = CustomerFactory(assigned_to=manager)
    late = TaskFactory(customer=owner, due_at=timezone.now() - dt.timedelta(days=2))
    TaskFactory(customer=owner, due_at=timezone.now() + dt.timedelta(days=2))
    client.force_login(manager)
    page = client.get(reverse("tasks:list")).content.decode()
    assert 'hx-trigger="task-done from:body, task-updated from:body"' in page
    assert "Overdue (1)" in page

    done = client.post(reverse("tasks:complete", args=[late.pk]), {"outcome": "Called"}, **HTMX)
    counts = client.get(reverse("tasks:list"), **HTMX, HTTP_HX_TARGET="task-counts")

    assert done["HX-Trigger"] == "task-done"
    body = counts.content.decode()
    assert body.lstrip().startswith("{% comment %}") is False
    assert 'id="task-counts"' in body and "<ul" not in body
    assert "Overdue (0)" in body and "All open (1)" in body
