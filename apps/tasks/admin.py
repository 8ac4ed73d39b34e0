"""Task admin: rows from the tasks selector, each kind of change through its own service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import ServiceAdmin, adopt, without_ciphertext
from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.customers.visibility import may_edit_customers, visible_customers
from apps.tasks.fields import OWNER_FIELDS, RECORD_FIELDS, WORK_FIELDS
from apps.tasks.models import Task
from apps.tasks.selectors import visible_tasks
from apps.tasks.services import (
    cancel_task,
    complete_task,
    create_task,
    reassign_task,
    reschedule_task,
    update_task_details,
)


@admin.register(Task)
class TaskAdmin(ServiceAdmin):
    list_display = ("title", "customer", "assignee", "due_at", "priority", "status", "source")
    list_select_related = ("customer", "assignee")
    list_filter = ("status", "priority", "source", "due_at")
    search_fields = ("title", "customer__display_name", "^customer__external_id")
    show_full_result_count = False
    fields = (*OWNER_FIELDS, *WORK_FIELDS, "status", "outcome", *RECORD_FIELDS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return without_ciphertext(visible_tasks(user=request.user), "customer")

    def get_autocomplete_fields(self, request: HttpRequest) -> Any:
        fields = ["customer"]
        if request.user.has_perm("identity.view_user"):
            fields.append("assignee")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Task | None = None) -> Any:
        if obj is None:
            return (*RECORD_FIELDS, "status", "outcome")
        return ("customer", *RECORD_FIELDS)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"assignee": request.user.pk, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Customer:
            kwargs["queryset"] = without_ciphertext(visible_customers(user=request.user))
        elif db_field.name == "assignee":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and may_edit_customers(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_edit_customers(request.user)

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        data, changed = form.cleaned_data, set(form.changed_data)
        actor = request.user
        if not change:
            task = create_task(
                actor=actor,
                customer=data["customer"],
                assignee=data["assignee"],
                title=data["title"],
                due_at=data["due_at"],
                reminder_at=data.get("reminder_at"),
                priority=data["priority"],
                description=data.get("description", ""),
            )
            adopt(obj, task)
            return
        task = Task.objects.get(pk=obj.pk)
        details = {name: data[name] for name in ("title", "description", "priority") if name in changed}
        if details:
            task = update_task_details(actor=actor, task=task, **details)
        if changed & {"due_at", "reminder_at"}:
            task = reschedule_task(actor=actor, task=task, due_at=data["due_at"], reminder_at=data.get("reminder_at"))
        if "assignee" in changed:
            task = reassign_task(actor=actor, task=task, assignee=data["assignee"])
        if "status" in changed:
            status = data["status"]
            if status == Task.Status.DONE:
                task = complete_task(actor=actor, task=task, outcome=data.get("outcome", ""))
            elif status == Task.Status.CANCELLED:
                task = cancel_task(actor=actor, task=task, reason=data.get("outcome", ""))
            else:
                raise Conflict("A closed task is not reopened: create a new task instead.", field="status")
        adopt(obj, task)
