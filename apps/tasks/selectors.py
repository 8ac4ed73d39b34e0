from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.core.business_date import business_today
from apps.core.compiled import CompiledQuery
from apps.core.errors import NotFound
from apps.customers.models import Customer
from apps.customers.visibility import CustomerScope, customer_scope, may_hold_work_on, visible_scope
from apps.tasks.fields import ROW_FIELDS
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
    return _open_tasks_of(visible_tasks(user=user), user_id=user.pk, when=when, bounds=business_day_bounds(today))


def _open_tasks_of(
    tasks: QuerySet[Task], *, user_id: int, when: str, bounds: tuple[dt.datetime, dt.datetime]
) -> QuerySet[Task]:
    start, end = bounds
    tasks = tasks.filter(assignee_id=user_id, status=Task.Status.OPEN)
    if when == "overdue":
        tasks = tasks.filter(due_at__lt=start)
    elif when == "today":
        tasks = tasks.filter(due_at__gte=start, due_at__lt=end)
    elif when == "upcoming":
        tasks = tasks.filter(due_at__gte=end)
    return tasks.order_by("due_at", "-priority", "id")


def _bucket_counts(today: dt.date | None, bounds: tuple[dt.datetime, dt.datetime] | None = None) -> dict[str, Count]:
    """Each bucket of my_open_tasks as a count (the same bounds as its `when` filters)."""
    start, end = bounds or business_day_bounds(today)
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


def with_task_counts(
    tasks: QuerySet[Task], *, today: dt.date | None = None, bounds: tuple[dt.datetime, dt.datetime] | None = None
) -> QuerySet[Task]:
    """All of the user's open tasks (`my_open_tasks` without `when`) with my_task_counts' counts on
    every row, as windows over all of them: a page of them read with its counts in one statement
    (decision 152). `counts_of(row)` reads them back."""
    counts = _bucket_counts(today, bounds)
    return tasks.annotate(**{COUNTED + name: Window(count) for name, count in counts.items()})


def task_list_rows(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The columns a row of the task list shows, the customer's name a subquery of the row: read for
    the page's rows only, after the sort and the LIMIT, where a join read it for every customer of
    the book (decision 152)."""
    name = Customer.objects.filter(pk=OuterRef("customer_id")).values("display_name")
    return tasks.select_related(None).only(*ROW_FIELDS, "customer_id").annotate(customer_name=Subquery(name))


# Marker values no task list has (a user below zero, instants in 1901): decision 177.
_MARK_USER = -17_717_717
_MARK_HELD = -17_717_718
_MARK_START = dt.datetime(1901, 3, 1, 0, 0, 17, tzinfo=dt.UTC)
_MARK_END = dt.datetime(1901, 3, 2, 0, 0, 17, tzinfo=dt.UTC)
COMPILED_PAGES = 20  # a manager's first pages compiled once each; later ones keep the ORM
_PAGES: dict[tuple[int, int], CompiledQuery[Task]] = {}  # values_list statements


class TaskRow(NamedTuple):
    """One task of a manager's compiled task list page, as values: what its row shows (task_row),
    read without making a Task (decision 182)."""

    id: int
    title: str
    due_at: dt.datetime
    priority: int
    status: str
    source: str
    source_rule: str
    customer_id: int
    customer_name: str

    @property
    def pk(self) -> int:
        return self.id

    def is_overdue_at(self, day_began: dt.datetime) -> bool:
        return Task.overdue(status=self.status, due_at=self.due_at, day_began=day_began)


# The row's columns (the task's, then the customer's name) and the counts, as the statement selects them.
_ROW_COLUMNS = TaskRow._fields[:-1]


def _page_statement(
    user_id: int, held: int, start: dt.datetime, end: dt.datetime, *, number: int, size: int
) -> QuerySet[Task, Any]:  # Any: values_list rows
    """The task list's unfiltered page `number` with every count (as the view writes it with the
    ORM), as values: markers where the user, the held-ids subquery and the day's bounds go."""
    # `held` is a marker the viewer's held-ids subquery replaces at each run, not SQL from anyone.
    scope = CustomerScope(user_id=0).rows(held=RawSQL("%s", (held,)))  # nosec B611
    tasks = _open_tasks_of(Task.objects.filter(scope), user_id=user_id, when="", bounds=(start, end))
    counted = with_task_counts(task_list_rows(tasks), bounds=(start, end))
    buckets = [COUNTED + name for name in _bucket_counts(None, (start, end))]
    return counted.values_list(*_ROW_COLUMNS, "customer_name", *buckets)[(number - 1) * size : number * size]


def my_task_page(*, user: User, number: int, size: int) -> tuple[list[TaskRow], dict[str, int]] | None:
    """A relationship manager's unfiltered page `number` of their open tasks (as values) and the
    counts of every bucket, by a statement compiled once per process for each page, the viewer's
    own held_ids_sql (visibility) spliced in and the business day's bounds put at each place they
    are tested; None for anyone else, a later page, or a page with no rows (the caller then asks
    the ORM)."""
    scope = customer_scope(user=user)
    if scope.sees_all or scope.sees_none or scope.branch_id is not None or not 1 <= number <= COMPILED_PAGES:
        return None
    compiled = _PAGES.get((number, size))
    if compiled is None:
        compiled = CompiledQuery(
            Task,
            lambda user_id, held, start, end: _page_statement(user_id, held, start, end, number=number, size=size),
            user_id=_MARK_USER,
            held=_MARK_HELD,
            start=_MARK_START,
            end=_MARK_END,
        )
        _PAGES[(number, size)] = compiled
    start, end = business_day_bounds()
    names, fetched = compiled.values(user_id=user.pk, held=scope.held_ids_sql, start=start, end=end)
    if not fetched:
        return None
    width = len(TaskRow._fields)
    if tuple(names[:width]) != TaskRow._fields:
        raise RuntimeError(f"The task page's statement selects {names}, not a TaskRow and the counts.")
    counts = {name[len(COUNTED) :]: value for name, value in zip(names[width:], fetched[0][width:], strict=True)}
    return [TaskRow._make(row[:width]) for row in fetched], counts


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
