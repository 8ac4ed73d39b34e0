"""Holdings over the REST API (read-only: they arrive from the core banking system).

A holding is visible when one of its parties is a customer the caller may see; the parties
listed are only those customers (a joint holder under another manager is not disclosed).
Holdings are never deleted: a closed or matured one keeps its row.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.positions import COUNTED_ROLES, household_position, position_of
from apps.accounts.selectors import visible_holdings
from apps.api.filters import IdFilter
from apps.api.models import Scope
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.core.business_date import business_today
from apps.core.windows import maturing_within
from apps.customers.api import CustomerViewSet
from apps.customers.household import household_of
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


class HoldingSummaryOut(serializers.Serializer):
    """A holding without its parties (used where the customer is already known)."""

    id = serializers.IntegerField()
    external_id = serializers.CharField()
    category = serializers.CharField()
    product = serializers.CharField(source="product.code", help_text="Product code.")
    number_hint = serializers.CharField()
    currency = serializers.CharField()
    balance = serializers.DecimalField(max_digits=18, decimal_places=2)
    credit_limit = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    rate = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    opened_on = serializers.DateField()
    maturity_date = serializers.DateField(allow_null=True)
    maturity_instruction = serializers.CharField(allow_blank=True)
    status = serializers.CharField()


class CustomerHoldingOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="Id of the customer's party to the holding.")
    role = serializers.ChoiceField(choices=HoldingParty.Role.choices)
    holding = HoldingSummaryOut()


class CurrencyPositionOut(serializers.Serializer):
    currency = serializers.CharField()
    held = serializers.DecimalField(max_digits=20, decimal_places=2, help_text="Money the customer has with the bank.")
    owed = serializers.DecimalField(
        max_digits=20, decimal_places=2, help_text="Money the customer owes the bank, as a positive amount."
    )
    net = serializers.DecimalField(max_digits=20, decimal_places=2, help_text="held - owed.")


class PositionOut(serializers.Serializer):
    """Held, owed and net per currency, as the customer page shows them."""

    counted_roles = serializers.ListField(
        child=serializers.CharField(),
        help_text="Roles (owner, joint) whose holdings count, a joint holding in full; other roles are not counted.",
    )
    positions = CurrencyPositionOut(many=True, help_text="The customer's own active holdings.")
    household_members = serializers.ListField(
        child=serializers.IntegerField(), help_text="Relatives you may see whose holdings the household totals add."
    )
    household_outside_book = serializers.IntegerField(
        help_text="How many relatives are outside your book: the household totals do not count them."
    )
    household_positions = CurrencyPositionOut(
        many=True, help_text="The customer and those relatives; a joint holding counted once. Empty without relatives."
    )


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


@documented_reads(
    HOLDING_EXAMPLE,
    listed=("List holdings of customers you may see", "A page of holdings"),
    one=("One holding", "A term deposit"),
)
class HoldingViewSet(ListRetrieveMixin, ApiViewSet[Holding]):
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


class CustomerWithHoldingsViewSet(CustomerViewSet):
    __doc__ = CustomerViewSet.__doc__  # the API's description of /customers/ stays the customers app's

    # /customers/{id}/holdings/ and /position/ are answered here, by the app that owns holdings:
    # apps.customers does not import apps.accounts. finpulse/api_urls.py mounts this class.
    required_scopes = {
        **CustomerViewSet.required_scopes,
        "holdings": Scope.HOLDINGS_READ,
        "position": Scope.HOLDINGS_READ,
    }

    @extend_schema(summary="The customer's holdings and their role in each", responses=CustomerHoldingOut(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def holdings(self, request: ApiRequest, pk: str) -> Response:
        customer = self.get_object()
        parties = (
            HoldingParty.objects.filter(customer=customer).select_related("holding__product").defer("holding__number")
        )
        page = self.paginate_queryset(parties)
        return self.get_paginated_response(CustomerHoldingOut(page, many=True).data)

    @extend_schema(summary="Held, owed and net per currency (customer and household)", responses=PositionOut)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def position(self, request: ApiRequest, pk: str) -> Response:
        customer = self.get_object()
        household = household_of(user=request.user, customer=customer)
        return Response(
            PositionOut(
                {
                    "counted_roles": list(COUNTED_ROLES),
                    "positions": position_of([customer.pk]),
                    "household_members": [member.customer.pk for member in household if member.customer is not None],
                    "household_outside_book": sum(member.outside_book for member in household),
                    "household_positions": household_position(customer=customer, household=household),
                }
            ).data
        )
