"""Advice in Django admin: every recommendation with its engine, prompt and answer (PII-free),
acceptance rates per product and the daily cost of LLM calls. Read-only: advice is a record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.core.admin import ReadOnlyAdmin, without_ciphertext
from apps.recommendations.fields import ADVICE_FIELDS, COST_FIELDS, ORIGIN_FIELDS
from apps.recommendations.models import Recommendation, RecommendationFeedback
from apps.recommendations.selectors import acceptance_by_product, daily_costs, visible_recommendations


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "customer",
        *ORIGIN_FIELDS,
        "latency_ms",
        "total_tokens",
        "cost",
        "item_count",
        "dropped_count",
        "from_cache",
    )
    list_filter = (*ORIGIN_FIELDS, "from_cache", "created_at")
    list_select_related = ("customer",)
    search_fields = ("=profile_hash", "^customer__external_id")
    show_full_result_count = False
    date_hierarchy = "created_at"
    fields = (
        "customer",
        "created_at",
        "requested_by",
        *ORIGIN_FIELDS,
        "catalog_version",
        "profile_hash",
        "from_cache",
        *COST_FIELDS,
        *ADVICE_FIELDS,
        "snapshot",
        "prompt",
        "response",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Recommendation]:
        return without_ciphertext(visible_recommendations(user=request.user).select_related("customer"), "customer")

    @admin.display(description="items")
    def item_count(self, obj: Recommendation) -> int:
        return len(obj.items or [])

    @admin.display(description="dropped")
    def dropped_count(self, obj: Recommendation) -> int:
        return obj.dropped_count

    @admin.display(description="tokens")
    def total_tokens(self, obj: Recommendation) -> int:
        return obj.total_tokens

    def get_urls(self) -> list[Any]:
        summary = path(
            "summary/", self.admin_site.admin_view(self.summary_view), name="recommendations_recommendation_summary"
        )
        return [summary, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {"summary_url": reverse("admin:recommendations_recommendation_summary"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def summary_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        recommendations = visible_recommendations(user=request.user)
        days = daily_costs(recommendations=recommendations)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Recommendations: acceptance and cost",
            "acceptance": acceptance_by_product(recommendations=recommendations),
            "days": days,
            "total_cost": sum((day["cost"] or Decimal(0) for day in days), Decimal(0)),
            "currency": settings.FINPULSE_LLM_PRICE_CURRENCY,
            "prices": {
                "input": settings.FINPULSE_LLM_PRICE_INPUT_PER_1K,
                "output": settings.FINPULSE_LLM_PRICE_OUTPUT_PER_1K,
            },
        }
        return TemplateResponse(request, "admin/recommendations/summary.html", context)


@admin.register(RecommendationFeedback)
class RecommendationFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recommendation", "product", "decision", "reason", "actor")
    list_filter = ("decision", "product")
    list_select_related = ("recommendation", "product", "actor")
    show_full_result_count = False
    fields = ("recommendation", "product", "decision", "reason", "actor", "created_at", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecommendationFeedback]:
        visible = visible_recommendations(user=request.user)
        return RecommendationFeedback.objects.filter(recommendation__in=visible.values("pk")).select_related(
            "recommendation", "product", "actor"
        )
