"""Lead admin: read-only rows from the lead selector; every change happens on the lead's page.

Leads arrive through the API, the public form and batch files, and move through the state
machine's services, so the admin adds and edits nothing. It never loads the encrypted
columns (inquiry and contact details): it shows the masked hints.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import ReadOnlyInline, ServiceAdmin, without_ciphertext
from apps.leads.fields import CLOCK_FIELDS, HINT_FIELDS, ORIGIN_FIELDS, READ_FIELDS
from apps.leads.models import Lead, LeadCorrection, LeadTransition
from apps.leads.selectors import visible_leads

SHOWN = (
    *ORIGIN_FIELDS,
    *READ_FIELDS,
    "extracted_by",
    "extraction_model",
    "review_reasons",
    "extraction_attempts",
    "assignee",
    "customer",
    "rejection_reason",
    *HINT_FIELDS,
    *CLOCK_FIELDS,
)


class TransitionInline(ReadOnlyInline):
    model = LeadTransition
    fields = ("at", "from_state", "to_state", "actor", "reason")
    readonly_fields = fields


class CorrectionInline(ReadOnlyInline):
    model = LeadCorrection
    fields = ("at", "field", "old_value", "new_value", "actor", "note")
    readonly_fields = fields


@admin.register(Lead)
class LeadAdmin(ServiceAdmin):
    list_display = ("id", "received_at", "source", "state", "intent", "requested_amount", "branch", "assignee")
    list_filter = ("state", "intent", "source", "extracted_by")
    list_select_related = ("branch", "assignee")
    search_fields = ("=id", "=external_ref")
    show_full_result_count = False
    fields = SHOWN
    readonly_fields = SHOWN
    inlines = (TransitionInline, CorrectionInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return without_ciphertext(visible_leads(user=request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
