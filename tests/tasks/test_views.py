import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.tasks.models import Task
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def customer(manager):
    return CustomerFactory(assigned_to=manager, branch=manager.branch)


@pytest.fixture
def task(customer):
    return TaskFactory(customer=customer, title="Call about renewal")


def test_another_manager_gets_404_on_every_task_surface(client, other_manager, customer, task):
    client.force_login(other_manager)
    due = _local(timezone.now() + dt.timedelta(days=3))

    assert client.get(reverse("tasks:customer_tasks", args=[customer.pk])).status_code == 404
    assert client.post(reverse("tasks:create", args=[customer.pk]), {"title": "x", "due_at": due}).status_code == 404
    assert client.post(reverse("tasks:complete", args=[task.pk])).status_code == 404
    assert client.get(reverse("tasks:reschedule", args=[task.pk])).status_code == 404
    assert client.post(reverse("tasks:reschedule", args=[task.pk]), {"due_at": due}).status_code == 404
    assert client.get(reverse("tasks:reassign", args=[task.pk])).status_code == 404
    assert client.post(reverse("tasks:reassign", args=[task.pk]), {"assignee": other_manager.pk}).status_code == 404
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
    assert task.assignee_id == customer.primary_manager_id
    assert Task.objects.count() == 1


def test_the_customer_panel_lists_open_tasks_and_a_create_form(client, manager, customer, task):
    TaskFactory(customer=customer, title="Finished one").__class__.objects.filter(title="Finished one").update(
        status=Task.Status.DONE, completed_at=timezone.now()
    )
    client.force_login(manager)

    response = client.get(reverse("tasks:customer_tasks", args=[customer.pk]), **HTMX)

    body = response.content.decode()
    assert "Call about renewal" in body
    assert "Finished one" not in body
    assert f'action="{reverse("tasks:create", args=[customer.pk])}"' in body
    assert "<html" not in body  # a fragment for htmx


def test_creating_a_task_through_htmx_refreshes_the_panel(client, manager, customer):
    client.force_login(manager)
    due = timezone.now() + dt.timedelta(days=2)

    response = client.post(
        reverse("tasks:create", args=[customer.pk]),
        {"title": "Send terms", "due_at": _local(due), "priority": 3, "assignee": manager.pk},
        **HTMX,
    )

    assert response["HX-Trigger"] == "task-created"
    created = Task.objects.get(title="Send terms")
    assert created.assignee == manager
    assert created.priority == Task.Priority.HIGH
    assert "Send terms" in response.content.decode()


def test_a_task_form_with_errors_shows_them_in_place_and_keeps_the_input(client, manager, customer):
    client.force_login(manager)
    due = timezone.now() + dt.timedelta(days=2)

    response = client.post(
        reverse("tasks:create", args=[customer.pk]),
        {
            "title": "",
            "description": "Remember the ISA",
            "due_at": _local(due),
            "reminder_at": _local(due + dt.timedelta(hours=1)),
            "assignee": manager.pk,
        },
        **HTMX,
    )

    form = response.context["form"]
    assert form.errors["title"]
    assert form.errors["reminder_at"] == ["The reminder must come before the due time."]
    assert "Remember the ISA" in response.content.decode()
    assert not Task.objects.exists()


def test_completing_a_task_through_htmx_removes_the_row_and_triggers_task_done(client, manager, task):
    client.force_login(manager)

    response = client.post(reverse("tasks:complete", args=[task.pk]), {"outcome": "Renewed"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "task-done"
    assert response.content == b""
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.outcome == "Renewed"


def test_completing_a_task_twice_says_so_instead_of_failing(client, manager, task):
    client.force_login(manager)
    client.post(reverse("tasks:complete", args=[task.pk]), **HTMX)

    response = client.post(reverse("tasks:complete", args=[task.pk]), **HTMX)

    assert response.status_code == 200
    assert "no longer open" in response.content.decode()


def test_completing_without_htmx_goes_back_to_a_local_page_only(client, manager, task):
    client.force_login(manager)

    response = client.post(reverse("tasks:complete", args=[task.pk]), {"next": "https://evil.example/"})

    assert response["Location"] == task.customer.get_absolute_url()


def test_rescheduling_moves_the_due_time(client, manager, task):
    client.force_login(manager)
    new_due = (timezone.now() + dt.timedelta(days=7)).replace(second=0, microsecond=0)

    response = client.post(
        reverse("tasks:reschedule", args=[task.pk]), {"due_at": _local(new_due), "place": "customer"}, **HTMX
    )

    assert response["HX-Trigger"] == "task-updated"
    task.refresh_from_db()
    assert task.due_at == new_due
    assert f'id="task-{task.pk}"' in response.content.decode()


def test_a_row_fetches_its_reschedule_and_reassign_forms_when_asked(client, manager, task):
    """The list renders no per-row date pickers or assignee menus; a row asks for them over htmx
    and gets itself back with the form open, filled with the task's values."""
    client.force_login(manager)

    listing = client.get(reverse("tasks:list")).content.decode()
    reschedule = client.get(reverse("tasks:reschedule", args=[task.pk]), {"place": "list"}, **HTMX)
    reassign = client.get(reverse("tasks:reassign", args=[task.pk]), {"place": "list"}, **HTMX)

    assert 'name="due_at"' not in listing and 'name="assignee"' not in listing
    assert f'hx-get="{reverse("tasks:reschedule", args=[task.pk])}?place=list"' in listing
    row = reschedule.content.decode()
    assert "<html" not in row and f'id="task-{task.pk}"' in row
    assert f'name="due_at" value="{_local(task.due_at)}"' in row
    assert '<input type="hidden" name="place" value="list">' in row
    assert f'<option value="{manager.pk}" selected>' in reassign.content.decode()


def test_a_bad_reschedule_shows_the_error_in_the_row(client, manager, task):
    client.force_login(manager)

    response = client.post(reverse("tasks:reschedule", args=[task.pk]), {"due_at": "not a date"}, **HTMX)

    assert "Enter a valid date/time" in response.content.decode()
    assert 'value="not a date"' in response.content.decode()


def test_a_task_can_be_given_to_the_branch_manager_of_the_customer(client, manager, branch_manager, task):
    client.force_login(manager)

    response = client.post(reverse("tasks:reassign", args=[task.pk]), {"assignee": branch_manager.pk})

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == branch_manager


def test_a_task_cannot_be_given_to_someone_who_cannot_see_the_customer(client, manager, other_manager, task):
    client.force_login(manager)

    response = client.post(reverse("tasks:reassign", args=[task.pk]), {"assignee": other_manager.pk}, **HTMX)

    assert "cannot see the customer" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == manager


def test_my_task_list_filters_overdue_today_and_upcoming_by_the_business_date(client, manager, customer, settings):
    settings.FINPULSE_BUSINESS_DATE = "2026-03-10"
    noon = timezone.make_aware(dt.datetime(2026, 3, 10, 12, 0))
    TaskFactory(customer=customer, title="Late one", due_at=noon - dt.timedelta(days=2))
    TaskFactory(customer=customer, title="Today one", due_at=noon)
    TaskFactory(customer=customer, title="Later one", due_at=noon + dt.timedelta(days=3))
    client.force_login(manager)

    def titles(when):
        return [t.title for t in client.get(reverse("tasks:list"), {"when": when}).context["page"]]

    assert titles("overdue") == ["Late one"]
    assert titles("today") == ["Today one"]
    assert titles("upcoming") == ["Later one"]
    assert titles("") == ["Late one", "Today one", "Later one"]
    counts = client.get(reverse("tasks:list")).context["counts"]
    assert counts == {"all": 3, "overdue": 1, "today": 1, "upcoming": 1}


def test_a_task_can_be_created_from_the_list_by_customer_number(client, manager, customer, other_manager):
    foreign = CustomerFactory(assigned_to=other_manager)
    client.force_login(manager)
    due = _local(timezone.now() + dt.timedelta(days=1))

    refused = client.post(reverse("tasks:new"), {"customer": foreign.external_id, "title": "Probe", "due_at": due})
    created = client.post(reverse("tasks:new"), {"customer": customer.external_id, "title": "Mine", "due_at": due})

    assert "Choose one of your customers" in refused.content.decode()
    assert created.status_code == 302
    assert list(Task.objects.values_list("title", "assignee")) == [("Mine", manager.pk)]


def test_the_new_task_page_suggests_only_customers_in_the_users_book(client, manager, other_manager):
    mine = CustomerFactory(assigned_to=manager, first_name="Penelope", last_name="Ashcroft")
    CustomerFactory(assigned_to=other_manager, first_name="Penelope", last_name="Ashworth")
    client.force_login(manager)

    page = client.get(reverse("tasks:new")).content.decode()
    suggested = client.get(reverse("tasks:customer_options"), {"customer": "Penelope"}).content.decode()
    word = client.get(reverse("tasks:customer_options"), {"customer": "ashcr"}).content.decode()
    too_short = client.get(reverse("tasks:customer_options"), {"customer": "Pe"}).content.decode()

    assert 'list="task-customer-options"' in page and 'hx-get="/tasks/new/customers/"' in page
    assert f'<option value="Penelope Ashcroft · {mine.external_id}">' in suggested
    assert "Ashworth" not in suggested
    assert "Penelope Ashcroft" in word
    assert "<option" not in too_short


def test_a_task_is_created_on_the_chosen_suggestion_and_never_outside_the_book(client, manager, other_manager):
    mine = CustomerFactory(assigned_to=manager, first_name="Penelope", last_name="Ashcroft")
    foreign = CustomerFactory(assigned_to=other_manager, first_name="Zed", last_name="Outside")
    client.force_login(manager)
    due = _local(timezone.now() + dt.timedelta(days=1))

    chosen = client.post(
        reverse("tasks:new"), {"customer": f"Penelope Ashcroft · {mine.external_id}", "title": "Chosen", "due_at": due}
    )
    by_name = client.post(reverse("tasks:new"), {"customer": "penelope ashcroft", "title": "Typed", "due_at": due})
    forged = client.post(
        reverse("tasks:new"), {"customer": f"Zed Outside · {foreign.external_id}", "title": "Forged", "due_at": due}
    )
    foreign_name = client.post(reverse("tasks:new"), {"customer": "Zed Outside", "title": "Name", "due_at": due})

    assert chosen.status_code == 302 and by_name.status_code == 302
    assert forged.status_code == 200 and foreign_name.status_code == 200
    assert "Choose one of your customers" in forged.content.decode()
    assert sorted(Task.objects.values_list("title", "customer")) == [("Chosen", mine.pk), ("Typed", mine.pk)]


@pytest.mark.parametrize("tasks", [3, 30])
def test_customer_task_panel_queries_stay_flat(client, manager, customer, tasks, django_assert_max_num_queries):
    for _ in range(tasks):
        TaskFactory(customer=customer)
    client.force_login(manager)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("tasks:customer_tasks", args=[customer.pk]), **HTMX)
    assert response.content.decode().count('class="task-row') == tasks


@pytest.mark.parametrize("tasks", [3, 30])
def test_my_task_list_queries_stay_flat(client, manager, tasks, django_assert_max_num_queries):
    for _ in range(tasks):
        TaskFactory(customer=CustomerFactory(assigned_to=manager))
    client.force_login(manager)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("tasks:list"))
    assert len(response.context["page"]) == tasks


def test_every_task_page_renders_for_the_manager(client, manager, customer, task):
    client.force_login(manager)
    urls = [
        reverse("tasks:customer_tasks", args=[customer.pk]),
        reverse("tasks:create", args=[customer.pk]),
        reverse("tasks:list"),
        reverse("tasks:new"),
        reverse("tasks:reschedule", args=[task.pk]),
        reverse("tasks:reassign", args=[task.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<script>" not in response.content.decode()


def test_a_compliance_officer_sees_tasks_but_gets_no_forms_to_change_them(client, compliance_officer, customer, task):
    client.force_login(compliance_officer)

    body = client.get(reverse("tasks:customer_tasks", args=[customer.pk]), **HTMX).content.decode()
    refused = client.post(reverse("tasks:complete", args=[task.pk]), **HTMX)

    assert "Call about renewal" in body
    assert "Mark done" not in body
    assert "Create task" not in body
    assert "may read customers but not change them" in refused.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
