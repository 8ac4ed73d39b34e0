"""Outbox admin: status, attempts, last error and next retry for every row; failed ones apart.

Read-only except for the "retry" action (through the service). Rows never hold an address
or number, so nothing here decrypts.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import DomainError
from apps.notifications.models import FailedNotification, Notification, NotificationPreference
from apps.notifications.selectors import failed_notifications
from apps.notifications.services import retry_notifications

FIELDS = (
    "kind",
    "channel",
    "recipient_user",
    "recipient_customer",
    "subject",
    "payload",
    "dedupe_key",
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "message_id",
    "lease_expires_at",
    "sent_at",
    "read_at",
    "skip_reason",
    "created_at",
    "updated_at",
)


class _OutboxAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "channel",
        "recipient_user",
        "recipient_customer_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "channel", "kind")
    list_select_related = ("recipient_user",)
    search_fields = ("=dedupe_key", "subject")
    show_full_result_count = False
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ["retry"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_administrator

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    @admin.action(description="Retry the selected failed or outcome-unknown notifications")
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        try:
            count = retry_notifications(
                actor=request.user, notification_ids=list(queryset.values_list("pk", flat=True))
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"{count} notification(s) queued again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(_OutboxAdmin):
    pass


@admin.register(FailedNotification)
class FailedNotificationAdmin(_OutboxAdmin):
    """The dead-letter place: what ran out of attempts, newest first."""

    list_filter = ("channel", "kind")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return failed_notifications()


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    """Each employee sets their own preferences on their page; administrators only read them."""

    list_display = ("user", "kind", "channel", "enabled", "updated_at")
    list_filter = ("kind", "channel", "enabled")
    list_select_related = ("user",)
    readonly_fields = ("user", "kind", "channel", "enabled", "updated_at")
