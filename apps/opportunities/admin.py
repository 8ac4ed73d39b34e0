"""Opportunity admin: rows from the visibility selector, writes through the services; the stages
(the board's columns) are the bank's configuration, edited here by administrators."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import ServiceAdmin, adopt
from apps.opportunities.models import Opportunity, Stage
from apps.opportunities.selectors import opportunity_list
from apps.opportunities.services import save_stage


@admin.register(Stage)
class StageAdmin(ServiceAdmin):
    list_display = ("name", "position", "default_probability", "is_won", "is_lost", "is_active")
    list_editable = ()
    ordering = ("position",)
    fields = ("name", "position", "default_probability", "is_won", "is_lost", "is_active")

    def save_model(self, request: HttpRequest, obj: Stage, form: Any, change: bool) -> None:
        adopt(obj, save_stage(actor=request.user, stage=obj))


@admin.register(Opportunity)
class OpportunityAdmin(ServiceAdmin):
    list_display = ("__str__", "customer", "lead", "product", "amount", "currency", "stage", "outcome", "owner")
    list_select_related = ("customer", "lead", "product", "stage", "owner")
    list_filter = ("outcome", "stage", "source")
    search_fields = ("^customer__external_id", "product__code")
    show_full_result_count = False
    readonly_fields = (
        "customer",
        "lead",
        "product",
        "amount",
        "currency",
        "stage",
        "probability",
        "expected_close",
        "owner",
        "next_step",
        "outcome",
        "close_reason",
        "closed_at",
        "source",
        "source_object",
        "created_by",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Opportunity]:
        return opportunity_list(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Opened from the board, a customer's page, an alert or advice, through the service.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
