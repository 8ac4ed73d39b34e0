"""The task list's tab counts come with the page's rows in one statement (decision 152), and are
the counts my_task_counts gives, whichever page or tab is asked for."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.customers.services import assign_customers
from apps.tasks.selectors import my_task_counts
from apps.tasks.views import PAGE_SIZE
from tests.customers.factories import CustomerFactory, break_glass_grant
from tests.tasks.factories import TaskFactory

LIST = reverse("tasks:list")


@pytest.fixture
def many_tasks(manager, other_manager):
    now = timezone.now()
    mine = [CustomerFactory(assigned_to=manager) for _ in range(3)]
    for n in range(PAGE_SIZE + 5):  # overdue, later today or upcoming, spread over my customers
        TaskFactory(customer=mine[n % 3], assignee=manager, due_at=now + dt.timedelta(hours=12 * (n % 5) - 30))
    moved = CustomerFactory(assigned_to=manager)
    TaskFactory(customer=moved, assignee=manager, due_at=now - dt.timedelta(days=3))
    assign_customers(actor=None, customer_ids=[moved.pk], manager=other_manager)  # its task stays mine, unseen
    TaskFactory(customer=CustomerFactory(assigned_to=other_manager))  # someone else's


def task_statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if 'FROM "tasks_task"' in q["sql"]]


def test_the_first_page_reads_its_rows_and_every_count_in_one_statement(client, manager, many_tasks):
    client.force_login(manager)
    client.get(LIST)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)

    assert len(task_statements(captured)) == 1
    assert response.context["counts"] == my_task_counts(user=manager)
    assert response.context["counts"]["all"] == PAGE_SIZE + 5
    assert response.context["page"].paginator.num_pages == 2
    assert len(response.context["page"]) == PAGE_SIZE


@pytest.mark.parametrize("query", [{"page": "2"}, {"when": "overdue"}, {"page": "9"}, {"page": "x"}])
def test_other_pages_and_tabs_show_the_same_counts(client, manager, many_tasks, query):
    client.force_login(manager)

    response = client.get(LIST, query)

    counts = my_task_counts(user=manager)
    assert response.context["counts"] == counts
    page = response.context["page"]
    when = query.get("when", "")
    assert page.paginator.count == counts[when or "all"]
    expected = {"2": 5, "9": 5, "x": PAGE_SIZE}.get(query.get("page", ""), min(counts["overdue"], PAGE_SIZE))
    assert len(page) == expected


def test_a_manager_without_tasks_gets_empty_counts(client, other_manager):
    client.force_login(other_manager)

    response = client.get(LIST)

    assert response.context["counts"] == {"all": 0, "overdue": 0, "today": 0, "upcoming": 0}
    assert len(response.context["page"]) == 0


def test_a_managers_compiled_pages_read_what_the_orm_reads(manager, other_manager, branch_manager, many_tasks):
    """Decision 177: a manager's unfiltered pages come from one statement compiled once per process
    (the day's bounds at each place the counts test them, the viewer's held ids spliced in); each
    page's rows (values since decision 182: the same columns and row dicts) and counts equal the
    ORM's, a break-glass grant in force counts and a lapsed one
    does not, and anyone else gets None (the view asks the ORM)."""
    from apps.tasks.models import Task
    from apps.tasks.selectors import (
        _PAGES,
        TaskRow,
        counts_of,
        my_open_tasks,
        my_task_page,
        task_list_rows,
        with_task_counts,
    )
    from apps.tasks.views import task_row, task_row_labels

    now = timezone.now()
    for ends in (now + dt.timedelta(hours=1), now - dt.timedelta(seconds=1)):
        customer = CustomerFactory(assigned_to=other_manager)
        break_glass_grant(manager, customer, approved_by=other_manager, ends=ends)
        TaskFactory(customer=customer, assignee=manager, due_at=now + dt.timedelta(hours=2))

    def seen(tasks: list[Task]) -> list[tuple[object, ...]]:
        return [tuple(getattr(task, name) for name in TaskRow._fields) for task in tasks]

    def shown(tasks: list[Task] | list[TaskRow]) -> list[dict[str, object]]:
        labels = task_row_labels()
        return [task_row(task, place="list", can_edit=True, back_url="/tasks/", labels=labels) for task in tasks]

    for user in (manager, other_manager):
        for number in (1, 2, 3):
            compiled = my_task_page(user=user, number=number, size=PAGE_SIZE)
            orm = list(
                with_task_counts(task_list_rows(my_open_tasks(user=user)))[(number - 1) * PAGE_SIZE :][:PAGE_SIZE]
            )
            if not orm:
                assert compiled is None
                continue
            assert compiled is not None
            rows, counts = compiled
            # Read as values (decision 182): the ORM's instances' columns, and the same row dicts.
            assert all(type(row) is TaskRow for row in rows)
            assert list(rows) == seen(orm)
            assert shown(rows) == shown(orm)
            assert counts == counts_of(orm[0]) == my_task_counts(user=user)
    assert my_task_counts(user=manager)["all"] == PAGE_SIZE + 6  # the grant in force, not the lapsed one
    assert (1, PAGE_SIZE) in _PAGES
    assert my_task_page(user=branch_manager, number=1, size=PAGE_SIZE) is None
