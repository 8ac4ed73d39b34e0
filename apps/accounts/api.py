"""Holdings over the REST API (read-only: they arrive from the core banking system).

A holding is visible when one of its parties is a customer the caller may see; the parties
listed are only those customers (a joint holder under another manager is not disclosed).
Holdings are never deleted: a closed or matured one keeps its row.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.selectors import visible_holdings
from apps.api.filters import IdFilter
from apps.api.models import Scope
from apps.api.viewsets import ApiViewSet, ListRetrieveMixin
from apps.core.business_date import business_today
from apps.core.windows import maturing_within
from apps.customers.visibility import visible_customers


class HoldingPartyOut(serializers.ModelSerializer):
    class Meta:
        model = HoldingParty
        fields = ("customer", "role")
        read_only_fields = fields


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as "" when it does not apply, answered as null (the schema's enum has no "")."""

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class HoldingOut(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Only term deposits have one; other holdings answer null, never "".
    maturity_instruction = BlankAsNullChoiceField(
        choices=Holding.MaturityInstruction.choices, allow_null=True, read_only=True
    )
    parties = HoldingPartyOut(many=True, read_only=True, source="visible_parties")

    class Meta:
        model = Holding
        fields = (
            "id",
            "external_id",
            "category",
            "product",
            "number_hint",
            "currency",
            "balance",
            "credit_limit",
            "rate",
            "opened_on",
            "maturity_date",
            "maturity_instruction",
            "status",
            "parties",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class HoldingFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="parties__customer")
    maturing_from = django_filters.DateFilter(field_name="maturity_date", lookup_expr="gte")
    maturing_to = django_filters.DateFilter(field_name="maturity_date", lookup_expr="lte")
    maturing = django_filters.BooleanFilter(
        method="filter_maturing",
        help_text='Active holdings maturing between the business date and the end of the "maturing" window '
        "(the longest maturity alert threshold), as on the dashboard and the customer list.",
    )

    class Meta:
        model = Holding
        fields = ("category", "status", "currency", "customer", "maturing_from", "maturing_to", "maturing")

    def filter_maturing(self, queryset: QuerySet[Holding], name: str, value: bool | None) -> QuerySet[Holding]:
        if not value:
            return queryset
        today = business_today()
        return queryset.filter(status=Holding.Status.ACTIVE, maturity_date__range=(today, maturing_within(today=today)))


HOLDING_EXAMPLE = {
    "id": 900,
    "external_id": "TD-2026-000123",
    "category": "term_deposit",
    "product": "TD12",
    "number_hint": "••••6819",
    "currency": "GBP",
    "balance": "25000.00",
    "credit_limit": None,
    "rate": "4.1000",
    "opened_on": "2025-06-01",
    "maturity_date": "2026-06-01",
    "maturity_instruction": "renew",
    "status": "active",
    "parties": [{"customer": 42, "role": "owner"}],
    "created_at": "2025-06-01T08:00:00Z",
    "updated_at": "2025-06-01T08:00:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="List holdings of customers you may see",
        examples=[OpenApiExample("A page of holdings", value=[HOLDING_EXAMPLE], response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One holding", examples=[OpenApiExample("A term deposit", value=HOLDING_EXAMPLE, response_only=True)]
    ),
)
class HoldingViewSet(ListRetrieveMixin, ApiViewSet):
    """Holdings of customers you may see: accounts, deposits, loans, cards and investments."""

    serializer_class = HoldingOut
    filterset_class = HoldingFilter
    http_method_names = ["get", "head", "options"]
    required_scopes = {"read": Scope.HOLDINGS_READ}

    def get_queryset(self) -> QuerySet[Holding]:
        parties = HoldingParty.objects.filter(customer__in=visible_customers(user=self.request.user)).order_by("id")
        return (
            visible_holdings(user=self.request.user)
            .select_related("product")
            .defer("number")
            .prefetch_related(Prefetch("parties", queryset=parties, to_attr="visible_parties"))
            .order_by("id")
        )
