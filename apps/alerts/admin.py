"""Alerts in admin: rows from the alerts selector; handled through the same services as the pages."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.alerts.models import Alert
from apps.alerts.selectors import visible_alerts
from apps.alerts.services import acknowledge_alert
from apps.core.admin import ReadOnlyAdmin, without_ciphertext
from apps.core.errors import DomainError
from apps.customers.visibility import may_edit_customers

FIELDS = (
    "customer",
    "rule",
    "threshold",
    "object_type",
    "object_id",
    "fires_on",
    "reason",
    "details",
    "manager",
    "task",
    "status",
    "snoozed_until",
    "status_reason",
    "handled_by",
    "handled_at",
    "created_at",
)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "rule", "threshold", "customer", "manager", "fires_on", "status")
    list_filter = ("status", "rule", "threshold")
    list_select_related = ("customer", "manager")
    search_fields = ("customer__display_name", "^customer__external_id")
    show_full_result_count = False
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ["acknowledge"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        return without_ciphertext(visible_alerts(user=request.user), "customer")

    @admin.action(description="Acknowledge the selected alerts")
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        if not may_edit_customers(request.user):
            self.message_user(request, "Your role may not handle alerts.", messages.ERROR)
            return
        done = 0
        for alert in queryset:
            try:
                acknowledge_alert(actor=request.user, alert=alert, reason="Acknowledged in admin")
                done += 1
            except DomainError as error:
                self.message_user(request, f"{alert}: {error.message}", messages.WARNING)
        self.message_user(request, f"{done} alert(s) acknowledged.", messages.SUCCESS)
