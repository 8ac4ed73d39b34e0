"""Meeting admin: read-only rows from the calendar's visibility selector.

A meeting is written on the calendar pages by its organiser (apps.agenda.services: every change
sends a new invitation version to everyone on it), so the admin adds, changes and deletes none:
it lists and shows them for support and audit questions (decision 106).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.agenda.models import Meeting
from apps.agenda.selectors import visible_meetings
from apps.core.admin import ServiceAdmin, without_ciphertext


@admin.register(Meeting)
class MeetingAdmin(ServiceAdmin):
    list_display = ("title", "customer", "organiser", "starts_at", "ends_at", "status")
    list_select_related = ("customer", "organiser")
    list_filter = ("status", "starts_at")
    search_fields = ("title", "^customer__external_id", "organiser__username")
    date_hierarchy = "starts_at"
    show_full_result_count = False
    fields = (
        "title",
        "customer",
        "organiser",
        "attendees",
        "starts_at",
        "ends_at",
        "location",
        "video_url",
        "agenda",
        "status",
        "customer_invited",
        "interaction",
        "uid",
        "sequence",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        return without_ciphertext(visible_meetings(user=request.user), "customer").prefetch_related("attendees")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Scheduled from the customer's page, with its invitation, through the service.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
