"""Lead admin: read-only rows from the lead selector; every change happens on the lead's page.

Leads arrive through the API, the public form and batch files, and move through the state
machine's services, so the admin adds and edits nothing. It never loads the encrypted
columns (inquiry and contact details): it shows the masked hints.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.core.admin import ReadOnlyAdmin, ReadOnlyInline, without_ciphertext
from apps.core.llm_budget import daily_budget
from apps.leads.fields import CLOCK_FIELDS, EXTRACTION_FIELDS, HINT_FIELDS, ORIGIN_FIELDS, READ_FIELDS
from apps.leads.models import Lead, LeadCorrection, LeadTransition
from apps.leads.selectors import llm_daily_costs, llm_spent_today, visible_leads

SHOWN = (
    *ORIGIN_FIELDS,
    *READ_FIELDS,
    *EXTRACTION_FIELDS,
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
class LeadAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "received_at",
        "source",
        "state",
        "intent",
        "requested_amount",
        "branch",
        "assignee",
        "extracted_by",
        "extraction_model",
        "llm_tokens",
        "llm_cost",
    )
    list_filter = ("state", "intent", "source", "extracted_by")
    list_select_related = ("branch", "assignee")
    search_fields = ("=id", "=external_ref")
    show_full_result_count = False
    fields = SHOWN
    readonly_fields = SHOWN
    inlines = (TransitionInline, CorrectionInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return without_ciphertext(visible_leads(user=request.user))

    @admin.display(description="tokens")
    def llm_tokens(self, obj: Lead) -> int:
        return obj.llm_prompt_tokens + obj.llm_completion_tokens

    def get_urls(self) -> list[Any]:
        costs = path("llm-costs/", self.admin_site.admin_view(self.costs_view), name="leads_lead_llm_costs")
        return [costs, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {"llm_costs_url": reverse("admin:leads_lead_llm_costs"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def costs_view(self, request: HttpRequest) -> HttpResponse:
        """Tokens, cost per lead and daily totals of lead extraction, with the day's budget."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = llm_daily_costs(leads=visible_leads(user=request.user))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Leads: extraction cost",
            "days": days,
            "total_cost": sum((day["cost"] or Decimal(0) for day in days), Decimal(0)),
            "budget": daily_budget("leads"),
            "spent_today": llm_spent_today(),
            "currency": settings.FINPULSE_LLM_PRICE_CURRENCY,
            "prices": {
                "input": settings.FINPULSE_LLM_PRICE_INPUT_PER_1K,
                "output": settings.FINPULSE_LLM_PRICE_OUTPUT_PER_1K,
            },
        }
        return TemplateResponse(request, "admin/leads/llm_costs.html", context)
