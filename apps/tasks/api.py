"""Follow-up tasks over the REST API: list, read, create, change, complete, cancel.

Tasks are read through visible_tasks (the customer selector decides) and written through
apps.tasks.services. They are never deleted: a task is completed or cancelled.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.conditional import conditional
from apps.api.filters import DateTimeFilter, IdFilter
from apps.api.idempotency import idempotent
from apps.api.models import Scope
from apps.api.representation import PlannedRepresentation
from apps.api.schema import MAX_ID
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.core.text_limits import DESCRIPTION_MAX_LENGTH
from apps.customers.models import PII_FIELDS
from apps.customers.visibility import visible_customers
from apps.identity.models import User
from apps.tasks.fields import ORIGIN_FIELDS, STAMP_FIELDS, WORK_FIELDS
from apps.tasks.models import Task
from apps.tasks.selectors import can_be_assigned, visible_tasks
from apps.tasks.services import (
    cancel_task,
    complete_task,
    create_task,
    reassign_task,
    reschedule_task,
    update_task_details,
)

CUSTOMER_PII = tuple(f"customer__{name}" for name in PII_FIELDS)


class TaskOut(PlannedRepresentation, serializers.ModelSerializer):
    customer_display_name = serializers.CharField(source="customer.display_name", read_only=True)

    class Meta:
        model = Task
        fields = (
            "id",
            "customer",
            "customer_display_name",
            "assignee",
            *WORK_FIELDS,
            "status",
            *ORIGIN_FIELDS,
            "outcome",
            *STAMP_FIELDS,
        )
        read_only_fields = fields


class TaskChangeIn(serializers.Serializer):
    title = serializers.RegexField(r"\S", max_length=200, required=False)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Task.Priority.choices, required=False)
    due_at = serializers.DateTimeField(required=False)
    reminder_at = serializers.DateTimeField(required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text="Someone who can see the customer."
    )


class TaskCreateIn(TaskChangeIn):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    title = serializers.RegexField(r"\S", max_length=200)
    due_at = serializers.DateTimeField()
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="Defaults to you (or the customer's primary manager if you cannot be assigned).",
    )


class TaskCompleteIn(serializers.Serializer):
    outcome = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default="")


class TaskCancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class TaskFilter(django_filters.FilterSet):
    due_from = DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_to = DateTimeFilter(field_name="due_at", lookup_expr="lt")
    customer = IdFilter(field_name="customer_id")
    assignee = IdFilter(field_name="assignee_id")

    class Meta:
        model = Task
        fields = ("status", "priority", "source", "customer", "assignee", "due_from", "due_to")


TASK_EXAMPLE = {
    "id": 314,
    "customer": 42,
    "customer_display_name": "Jane Doe",
    "assignee": 7,
    "title": "Call about maturing deposit",
    "description": "",
    "due_at": "2026-05-25T09:00:00Z",
    "reminder_at": None,
    "priority": 3,
    "status": "open",
    "source": "maturity",
    "source_rule": "maturity:7d",
    "outcome": "",
    "completed_at": None,
    "created_at": "2026-05-18T06:00:00Z",
    "updated_at": "2026-05-18T06:00:00Z",
}


def _not_assignable() -> serializers.ValidationError:
    return serializers.ValidationError({"assignee": ["This person cannot see the customer, so cannot own the task."]})


@documented_reads(
    TASK_EXAMPLE,
    listed=("Tasks on customers you may see", "A page of tasks"),
    one=("One task", "A task"),
)
class TaskViewSet(ListRetrieveMixin, ApiViewSet[Task]):
    """Follow-up tasks on customers you may see."""

    serializer_class = TaskOut
    filterset_class = TaskFilter
    required_scopes = {"read": Scope.TASKS_READ, "write": Scope.TASKS_WRITE}

    def get_queryset(self) -> QuerySet[Task]:
        # The customer is loaded for its name only: its PII columns stay encrypted and unloaded.
        return visible_tasks(user=self.request.user).defer(*CUSTOMER_PII).order_by("id")

    @extend_schema(
        summary="Create a task",
        request=TaskCreateIn,
        responses={201: TaskOut},
        examples=[
            OpenApiExample(
                "A follow-up call",
                request_only=True,
                value={"customer": 42, "title": "Call about maturing deposit", "due_at": "2026-05-25T09:00:00Z"},
            )
        ],
    )
    @idempotent()
    def create(self, request: ApiRequest) -> Response:
        fields = self.validated(TaskCreateIn)
        customer = visible_customers(user=request.user).filter(pk=fields.pop("customer")).first()
        if customer is None:
            # Missing and forbidden look alike.
            raise serializers.ValidationError({"customer": ["No such customer."]})
        assignee = fields.pop("assignee", None)
        if assignee is None:
            assignee = request.user if can_be_assigned(user=request.user, customer=customer) else None
            assignee = assignee or customer.primary_manager
            if assignee is None:
                raise serializers.ValidationError({"assignee": ["This customer has no manager: name an assignee."]})
        elif not can_be_assigned(user=assignee, customer=customer):
            raise _not_assignable()
        task = create_task(actor=request.user, customer=customer, assignee=assignee, **fields)
        return self.respond_created(task)

    @extend_schema(summary="Change, reschedule or reassign an open task", request=TaskChangeIn)
    @conditional()
    def partial_update(self, request: ApiRequest, pk: str) -> Response:
        changes: dict[str, Any] = self.validated(TaskChangeIn, partial=True)
        task = self.get_object()
        details = {name: changes[name] for name in ("title", "description", "priority") if name in changes}
        if details:
            task = update_task_details(actor=request.user, task=task, **details)
        if "due_at" in changes or "reminder_at" in changes:
            task = reschedule_task(
                actor=request.user,
                task=task,
                due_at=changes.get("due_at", task.due_at),
                reminder_at=changes.get("reminder_at", task.reminder_at),
            )
        if "assignee" in changes:
            if not can_be_assigned(user=changes["assignee"], customer=task.customer):
                raise _not_assignable()
            task = reassign_task(actor=request.user, task=task, assignee=changes["assignee"])
        return self.respond_with(_reloaded(task))

    @extend_schema(summary="Complete an open task", request=TaskCompleteIn, responses={200: TaskOut})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    @conditional(required=False)
    def complete(self, request: ApiRequest, pk: str) -> Response:
        changes = self.validated(TaskCompleteIn)
        task = complete_task(actor=request.user, task=self.get_object(), **changes)
        return self.respond_with(_reloaded(task))

    @extend_schema(summary="Cancel an open task (kept for the record)", request=TaskCancelIn, responses={200: TaskOut})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    @conditional(required=False)
    def cancel(self, request: ApiRequest, pk: str) -> Response:
        changes = self.validated(TaskCancelIn)
        task = cancel_task(actor=request.user, task=self.get_object(), **changes)
        return self.respond_with(_reloaded(task))


def _reloaded(task: Task) -> Task:
    """The services return the row they locked; the representation also names the customer."""
    return Task.objects.select_related("customer").defer(*CUSTOMER_PII).get(pk=task.pk)
