from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Window
from django.utils import timezone

from apps.core.business_date import business_today
from apps.core.errors import NotFound
from apps.customers.models import Customer
from apps.customers.visibility import may_hold_work_on, visible_scope
from apps.tasks.models import Task

if TYPE_CHECKING:
    from apps.identity.models import User
    from apps.workspace.customer_list import CustomerRow

WHEN_CHOICES = (("", "All open"), ("overdue", "Overdue"), ("today", "Due today"), ("upcoming", "Upcoming"))


def visible_tasks(*, user: User) -> QuerySet[Task]:
    """Tasks on customers the user may see (the customer selector decides)."""
    return Task.objects.filter(visible_scope(user=user)).select_related("customer", "assignee")


def task_for_user(*, user: User, task_id: Any) -> Task:
    try:
        return visible_tasks(user=user).get(pk=int(task_id))
    except (Task.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such task.") from None


def open_tasks_for_customer(*, user: User, customer: Customer) -> QuerySet[Task]:
    """The customer's open tasks, soonest first, for anyone who may see the customer."""
    return (
        visible_tasks(user=user)
        .filter(customer_id=customer.pk, status=Task.Status.OPEN)
        .order_by("due_at", "-priority", "id")
    )


def business_day_bounds(day: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of a business day in the bank's time zone ("due today" means this)."""
    day = day or business_today()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def my_open_tasks(*, user: User, when: str = "", today: dt.date | None = None) -> QuerySet[Task]:
    """Open tasks assigned to the user on customers they may see.

    Overdue: due before the business day began; today: due during it; upcoming: after it.
    """
    start, end = business_day_bounds(today)
    tasks = visible_tasks(user=user).filter(assignee_id=user.pk, status=Task.Status.OPEN)
    if when == "overdue":
        tasks = tasks.filter(due_at__lt=start)
    elif when == "today":
        tasks = tasks.filter(due_at__gte=start, due_at__lt=end)
    elif when == "upcoming":
        tasks = tasks.filter(due_at__gte=end)
    return tasks.order_by("due_at", "-priority", "id")


def _bucket_counts(today: dt.date | None) -> dict[str, Count]:
    """Each bucket of my_open_tasks as a count (the same bounds as its `when` filters)."""
    start, end = business_day_bounds(today)
    return {
        "all": Count("pk"),
        "overdue": Count("pk", filter=Q(due_at__lt=start)),
        "today": Count("pk", filter=Q(due_at__gte=start, due_at__lt=end)),
        "upcoming": Count("pk", filter=Q(due_at__gte=end)),
    }


def my_task_counts(*, user: User, today: dt.date | None = None) -> dict[str, int]:
    """How many of the user's open tasks fall in each bucket (one query)."""
    return my_open_tasks(user=user, today=today).aggregate(**_bucket_counts(today))


COUNTED = "bucket_"  # the prefix of with_task_counts' annotations


def with_task_counts(tasks: QuerySet[Task], *, today: dt.date | None = None) -> QuerySet[Task]:
    """All of the user's open tasks (`my_open_tasks` without `when`) with my_task_counts' counts on
    every row, as windows over all of them: a page of them read with its counts in one statement
    (decision 152). `counts_of(row)` reads them back."""
    return tasks.annotate(**{COUNTED + name: Window(count) for name, count in _bucket_counts(today).items()})


def counts_of(task: Task) -> dict[str, int]:
    """The counts with_task_counts put on a row, as my_task_counts gives them."""
    return {name[len(COUNTED) :]: value for name, value in vars(task).items() if name.startswith(COUNTED)}


def assignable_users(*, customer: Customer) -> QuerySet[User]:
    """Who may be given a task on this customer: the active managers who can open it
    (visibility decides). A task is never handed to someone who cannot open it."""
    return may_hold_work_on(customer=customer).order_by("first_name", "last_name", "username")


def can_be_assigned(*, user: User, customer: Customer) -> bool:
    return assignable_users(customer=customer).filter(pk=user.pk).exists()


TASK_CUSTOMER_CHOICES = 10  # suggestions under the new-task page's customer box
CHOICE_SEPARATOR = " · "  # "Penelope Ashcroft · CB00012345": the name to read, the number to resolve


def task_customer_label(customer: Customer | CustomerRow) -> str:
    return f"{customer.display_name}{CHOICE_SEPARATOR}{customer.external_id}"


def task_customer_choices(*, user: User, term: str, limit: int = TASK_CUSTOMER_CHOICES) -> list[CustomerRow]:
    """Customers the new-task page suggests for what was typed: a name (or a word of it) or a number.

    Only customers `user` may see: the customer list's search over `visible_customers`, best
    match first. Fewer than three characters suggest nothing (a trigram matches nearly anyone).
    """
    from apps.workspace.customer_list import NAME_SEARCH_MIN_LENGTH, CustomerQuery, customer_list_page

    term = term.strip()
    if len(term) < NAME_SEARCH_MIN_LENGTH:
        return []
    page = customer_list_page(user=user, query=CustomerQuery(term=term, sort="relevance"), page_size=limit)
    return page.customers[:limit]


def task_customer_for(*, user: User, text: str) -> Customer | None:
    """The customer a submitted new-task box names, among those `user` may see; None if none or several.

    A chosen suggestion carries the customer number after the separator; a number typed alone,
    or a name that matches exactly one visible customer, also names them.
    """
    from apps.customers.visibility import visible_customers

    text = text.strip()
    customers = visible_customers(user=user)
    if CHOICE_SEPARATOR in text:
        return customers.filter(external_id=text.rsplit(CHOICE_SEPARATOR, 1)[1].strip()).first()
    by_number = customers.filter(external_id__iexact=text).first()
    if by_number is not None:
        return by_number
    by_name = list(customers.filter(display_name__iexact=text)[:2])
    return by_name[0] if len(by_name) == 1 else None
