from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.customers.selectors import visible_customers
from apps.tasks.models import Task


def visible_tasks(*, user: Any) -> QuerySet[Task]:
    """Tasks on customers the user may see (the customer selector decides)."""
    return Task.objects.filter(customer__in=visible_customers(user=user)).select_related("customer", "assignee")


def task_for_user(*, user: Any, task_id: Any) -> Task:
    try:
        return visible_tasks(user=user).get(pk=int(task_id))
    except (Task.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such task.") from None
