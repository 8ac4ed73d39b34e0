"""Task pages and fragments: thin, through selectors and services.

htmx requests get fragments (the customer page's task panel, one task row); plain requests
get whole pages or a redirect, so everything works with the keyboard and without scripts.
After a change the response carries an HX-Trigger ("task-done", "task-created",
"task-updated") so other panels on the page (dashboard counts, timeline) can refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.fragments import joined_rows, render_rows
from apps.core.http import domain_errors_on, refuse_read_only
from apps.core.presentation import choice_labels, rule_label
from apps.core.urls_fast import url_former
from apps.customers.models import Customer
from apps.customers.visibility import customer_for_user, may_edit_customers
from apps.tasks.forms import (
    CompleteTaskForm,
    NewTaskForm,
    ReassignTaskForm,
    RescheduleTaskForm,
    TaskFilterForm,
    TaskForm,
)
from apps.tasks.models import Task
from apps.tasks.selectors import (
    TaskRow,
    assignable_users,
    can_be_assigned,
    counts_of,
    my_open_tasks,
    my_task_counts,
    my_task_page,
    open_tasks_for_customer,
    task_customer_choices,
    task_customer_for,
    task_customer_label,
    task_for_user,
    task_list_rows,
    with_task_counts,
)
from apps.tasks.services import complete_task, create_task, reassign_task, reschedule_task

if TYPE_CHECKING:
    from apps.identity.models import User

PAGE_SIZE = 50


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    return customer_for_user(user=request.user, customer_id=customer_id)


def _task(request: HttpRequest, task_id: int) -> Task:
    return task_for_user(user=request.user, task_id=task_id)


def _next_of(request: HttpRequest) -> str:
    return request.POST.get("next") or request.GET.get("next", "")


def _back(request: HttpRequest, task: Task | None = None) -> HttpResponse:
    """Back where the user came from (a local `next`), else the task's customer or the list."""
    target = _next_of(request)
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(task.customer.get_absolute_url() if task else reverse("tasks:list"))


def task_row_words() -> dict[str, str]:
    """The row template's own words in the active language: it may load no tags, so no {% trans %}."""
    return {
        "due": _("due"),
        "overdue": _("Overdue"),
        "for": pgettext("a task for a person", "for"),
        "outcome": _("Outcome"),
        "mark_done": _("Mark done"),
        "reschedule": _("Reschedule"),
        "reassign": _("Reassign"),
    }


def task_row_labels() -> dict[str, Any]:
    """What every row of one page shares: the template's words and each priority's and source's
    label in the active language (a row looks them up instead of translating them again), the
    instant the business day began, and the rows' link forms (apps.core.urls_fast.url_former)."""
    return {
        "words": task_row_words(),
        "priority": choice_labels(Task.Priority.choices),
        "source": choice_labels(Task.Source.choices),
        "rule": {},  # filled as rows name rules (rule_label per code, once a page)
        "day_began": Task.business_day_began(),
        "customer_url": url_former("customers:detail"),
        "complete_url": url_former("tasks:complete"),
        "reschedule_url": url_former("tasks:reschedule"),
        "reassign_url": url_former("tasks:reassign"),
    }


def task_row(
    task: Task | TaskRow, *, place: str, can_edit: bool, back_url: str = "", labels: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What one task row shows, as plain values (templates/tasks/_task_row.html): its cache key on a
    list. `place` is where the row sits ("list" or "customer"); `can_edit` is the viewer's fact.
    A manager's compiled task list page gives TaskRows (values, decision 182), never on a customer's
    panel (which names the assignee).
    Labels and the template's words are in the active language (gettext here, not in the template);
    `labels` (task_row_labels()) lets the rows of one page share them."""
    labels = labels or task_row_labels()
    assignee = task.assignee if place == "customer" and isinstance(task, Task) else None
    rule = task.source_rule
    if rule and rule not in labels["rule"]:
        labels["rule"][rule] = rule_label(rule)
    return {
        "words": labels["words"],
        "pk": task.pk,
        "title": task.title,
        "customer_url": labels["customer_url"](task.customer_id),
        "customer_name": _customer_name(task) if place != "customer" else "",
        "due_at": task.due_at,
        "is_overdue": task.is_overdue_at(labels["day_began"]),
        "priority": task.priority,
        # As get_FOO_display: a value outside the choices reads as itself.
        "priority_label": labels["priority"].get(task.priority, str(task.priority)),
        "assignee_name": (assignee.get_full_name() or assignee.username) if assignee else "",
        "source": task.source,
        "source_label": labels["source"].get(task.source, str(task.source)),
        "source_rule_label": labels["rule"][rule] if rule else "",
        "place": place,
        "can_edit": can_edit,
        "complete_url": labels["complete_url"](task.pk),
        "reschedule_url": labels["reschedule_url"](task.pk),
        "reassign_url": labels["reassign_url"](task.pk),
        "back_url": back_url
        or (reverse("tasks:list") if place == "list" else labels["customer_url"](task.customer_id)),
    }


def _customer_name(task: Task | TaskRow) -> str:
    """The task's customer's name: read with the row on the task list (customer_name), else from
    the customer (a task loaded alone, with its customer)."""
    name = getattr(task, "customer_name", None)
    return name if name is not None or isinstance(task, TaskRow) else task.customer.display_name


def _task_rows(request: HttpRequest, tasks: Any, *, place: str, can_edit: bool) -> list[SafeString]:
    back_url = reverse("tasks:list") if place == "list" else ""
    labels = task_row_labels()
    rows = [task_row(task, place=place, can_edit=can_edit, back_url=back_url, labels=labels) for task in tasks]
    return render_rows("tasks/_task_row.html", rows, csrf_token=get_token(request))


def _panel_context(request: HttpRequest, customer: Customer, form: TaskForm | None = None) -> dict[str, Any]:
    assignees = assignable_users(customer=customer)
    tasks = list(open_tasks_for_customer(user=request.user, customer=customer))
    can_edit = may_edit_customers(request.user)
    return {
        "customer": customer,
        "tasks": tasks,
        "rows": _task_rows(request, tasks, place="customer", can_edit=can_edit),
        "assignees": list(assignees),
        "form": form or TaskForm(assignees=assignees, user=request.user),
        "can_edit": can_edit,
    }


def _render_panel(request: HttpRequest, context: dict[str, Any], trigger: str = "") -> HttpResponse:
    template = "tasks/_customer_tasks.html" if request.htmx else "tasks/customer_tasks.html"
    response = render(request, template, context)
    if trigger:
        response["HX-Trigger"] = trigger
    return response


@login_required
@require_GET
def customer_tasks(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _render_panel(request, _panel_context(request, _customer(request, customer_id)))


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    if request.method == "GET":
        return render(request, "tasks/customer_tasks.html", _panel_context(request, customer))
    form = TaskForm(request.POST, assignees=assignable_users(customer=customer))
    if form.is_valid():
        with domain_errors_on(form):
            create_task(actor=request.user, customer=customer, **form.cleaned_data)
            if not request.htmx:
                messages.success(request, _("Task created."))
                return redirect(customer.get_absolute_url())
            return _render_panel(request, {**_panel_context(request, customer), "saved": True}, "task-created")
    return _render_panel(request, _panel_context(request, customer, form))


def _row(request: HttpRequest, task: Task, **extra: Any) -> HttpResponse:
    """One task row again (after a change or an error), as the panel it came from shows it."""
    place = request.POST.get("place") or request.GET.get("place", "")
    row = task_row(task, place=place, can_edit=may_edit_customers(request.user))
    return render(request, "tasks/_task_row.html", {**row, **extra})


def _changed(request: HttpRequest, task: Task, message: str) -> HttpResponse:
    """After a change: the page goes back with `message`; htmx gets the row re-read through the
    selector, and the page is told ("task-updated") so its other panels refresh."""
    if not request.htmx:
        messages.success(request, message)
        return _back(request, task)
    response = _row(request, task_for_user(user=request.user, task_id=task.pk))
    response["HX-Trigger"] = "task-updated"
    return response


@login_required
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    form = CompleteTaskForm(request.POST)
    if form.is_valid():
        with domain_errors_on(form):
            complete_task(actor=request.user, task=task, **form.cleaned_data)
            if not request.htmx:
                messages.success(request, _("Done: %(title)s.") % {"title": task.title})
                return _back(request, task)
            # The row disappears from the list; listeners refresh counts and timelines.
            response = HttpResponse("")
            response["HX-Trigger"] = "task-done"
            return response
    if request.htmx:
        return _row(request, task, error=" ".join(form.errors.get("__all__", [])) or "This task cannot be completed.")
    messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return _back(request, task)


@login_required
@require_http_methods(["GET", "POST"])
def task_reschedule(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    initial = {"due_at": task.due_at, "reminder_at": task.reminder_at}
    form = RescheduleTaskForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            task = reschedule_task(actor=request.user, task=task, **form.cleaned_data)
            return _changed(request, task, "Task rescheduled.")
    if request.htmx:  # the row asks for its form, or gets it back with the errors
        return _row(request, task, reschedule_form=form)
    return render(request, "tasks/reschedule.html", {"task": task, "form": form, "next": _next_of(request)})


@login_required
@require_http_methods(["GET", "POST"])
def task_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    assignees = assignable_users(customer=task.customer)
    form = ReassignTaskForm(request.POST or None, assignees=assignees, initial={"assignee": task.assignee_id})
    if request.method == "POST" and form.is_valid():
        assignee = form.cleaned_data["assignee"]
        with domain_errors_on(form):
            task = reassign_task(actor=request.user, task=task, assignee=assignee)
            return _changed(request, task, f"Task given to {assignee.get_full_name() or assignee.get_username()}.")
    if request.htmx:  # the row asks for its form, or gets it back with the errors
        return _row(request, task, reassign_form=form)
    return render(request, "tasks/reassign.html", {"task": task, "form": form, "next": _next_of(request)})


def _page_with_counts(*, when: str, number: str | None, user: User) -> tuple[Page, dict[str, int]]:
    """The page of the user's open tasks (`when`'s bucket) and the counts of every bucket.
    Unfiltered, a page's rows carry the counts (with_task_counts: one statement; a manager's first
    pages compiled once per process, my_task_page); filtered, or past the last page, the counts are
    one query and the page another, as the paginator asks for them."""
    wanted = int(number or "1") if (number or "1").isdigit() else 0
    if not when and wanted >= 1:
        compiled = my_task_page(user=user, number=wanted, size=PAGE_SIZE)
        if compiled is not None:
            rows, counts = compiled
            paginator = Paginator((), PAGE_SIZE)
            paginator.count = counts["all"]  # type: ignore[misc]  # counted with the rows: no COUNT
            return Page(rows, wanted, paginator), counts
    tasks = task_list_rows(my_open_tasks(user=user, when=when))
    if not when and wanted >= 1:
        rows = list(with_task_counts(tasks)[(wanted - 1) * PAGE_SIZE : wanted * PAGE_SIZE])
        if rows:
            counts = counts_of(rows[0])
            paginator = Paginator(tasks, PAGE_SIZE)
            paginator.count = counts["all"]  # type: ignore[misc]  # counted with the rows: no COUNT
            return Page(rows, wanted, paginator), counts
    counts = my_task_counts(user=user)
    paginator = Paginator(tasks, PAGE_SIZE)
    paginator.count = counts[when or "all"]  # type: ignore[misc]  # counted just above: no second COUNT
    return paginator.get_page(number), counts


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    filters = TaskFilterForm(request.GET or None)
    when = filters.cleaned_data["when"] if filters.is_valid() else ""
    if request.htmx and request.htmx.target == "task-counts":
        # The counts refresh themselves after an action on a row (task-done, task-updated).
        counts = my_task_counts(user=request.user)
        return render(request, "tasks/_counts.html", {"counts": counts, "when": when})
    page, counts = _page_with_counts(when=when, number=request.GET.get("page"), user=request.user)
    can_edit = may_edit_customers(request.user)
    context = {
        "page": page,
        # The rows as one text, with the whitespace list.html's loop wrote around each (decision 182).
        "rows": joined_rows(
            _task_rows(request, page.object_list, place="list", can_edit=can_edit), before="\n    ", after="\n  "
        ),
        "filters": filters,
        "when": when,
        "counts": counts,
        "can_edit": can_edit,
    }
    return render(request, "tasks/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request: HttpRequest) -> HttpResponse:
    """Create a task for one of my customers by customer number (the dashboard's quick add)."""
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = NewTaskForm(request.POST or None, assignees=None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        customer = task_customer_for(user=request.user, text=data.pop("customer"))
        if customer is None:
            form.add_error("customer", "Choose one of your customers from the list (type part of the name).")
        elif not can_be_assigned(user=request.user, customer=customer):
            form.add_error("customer", "You cannot hold tasks on this customer; open the customer to assign one.")
        else:
            with domain_errors_on(form):
                create_task(actor=request.user, customer=customer, assignee=request.user, **data)
                messages.success(request, _("Task created."))
                return redirect(customer.get_absolute_url())
    return render(request, "tasks/new.html", {"form": form})


@login_required
@require_GET
def task_customer_options(request: HttpRequest) -> HttpResponse:
    """The new-task page's suggestions (htmx): `<option>`s of visible customers matching `customer`."""
    refuse_read_only(may_edit=may_edit_customers(request.user))
    customers = task_customer_choices(user=request.user, term=request.GET.get("customer", ""))
    options = [task_customer_label(customer) for customer in customers]
    return render(request, "tasks/_customer_options.html", {"options": options})
