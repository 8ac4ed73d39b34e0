"""Opportunities over the REST API: list, read, open, change, move, win or lose.

Read through visible_opportunities (the customer rule, or the lead rule for one on a lead) and
written through apps.opportunities.services. Never deleted: an opportunity is won or lost.
Stages are named by their name (unique, the bank's configuration), as on the board.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.conditional import conditional
from apps.api.filters import IdFilter
from apps.api.idempotency import idempotent
from apps.api.models import Scope
from apps.api.representation import PlannedRepresentation
from apps.api.schema import MAX_ID
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.core.currencies import CURRENCY_CHOICES
from apps.customers.visibility import visible_customers
from apps.identity.models import User
from apps.leads.selectors import visible_leads
from apps.opportunities.models import REASON_MAX_LENGTH, Opportunity, Stage
from apps.opportunities.selectors import UNLOADED, opportunity_list
from apps.opportunities.services import (
    NEXT_STEP_MAX_LENGTH,
    close_opportunity,
    create_opportunity,
    move_opportunity,
    update_opportunity,
)
from apps.products.models import Product

AMOUNT = {"max_digits": 18, "decimal_places": 2, "min_value": Decimal("0.01"), "coerce_to_string": True}


class OpportunityOut(PlannedRepresentation, serializers.ModelSerializer):
    customer_display_name = serializers.CharField(source="customer.display_name", read_only=True, allow_null=True)
    product_code = serializers.CharField(source="product.code", read_only=True)
    stage = serializers.CharField(source="stage.name", read_only=True)

    class Meta:
        model = Opportunity
        fields = (
            "id",
            "customer",
            "customer_display_name",
            "lead",
            "product",
            "product_code",
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
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class OpportunityChangeIn(serializers.Serializer):
    amount = serializers.DecimalField(**AMOUNT, required=False)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    expected_close = serializers.DateField(required=False)
    next_step = serializers.CharField(max_length=NEXT_STEP_MAX_LENGTH, required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text="Someone who can see the customer."
    )


class OpportunityCreateIn(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Or `lead`.")
    lead = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Or `customer`.")
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    amount = serializers.DecimalField(**AMOUNT)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    expected_close = serializers.DateField()
    next_step = serializers.CharField(max_length=NEXT_STEP_MAX_LENGTH, required=False, allow_blank=True, default="")
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text="Defaults to you."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("customer" in attrs) == ("lead" in attrs):
            raise serializers.ValidationError({"customer": ["Give either a customer or a lead."]})
        return attrs


class OpportunityMoveIn(serializers.Serializer):
    stage = serializers.SlugRelatedField(
        slug_field="name", queryset=Stage.objects.filter(is_active=True), help_text="The stage's name, as on the board."
    )
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default="", help_text="Needed for won or lost."
    )


class OpportunityCloseIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[("won", "Won"), ("lost", "Lost")])
    reason = serializers.RegexField(r"\S", max_length=REASON_MAX_LENGTH)


class OpportunityFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    lead = IdFilter(field_name="lead_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Opportunity
        fields = ("outcome", "source", "customer", "lead", "owner")


OPPORTUNITY_EXAMPLE = {
    "id": 88,
    "customer": 42,
    "customer_display_name": "Jane Doe",
    "lead": None,
    "product": 5,
    "product_code": "TD-12M",
    "amount": "25000.00",
    "currency": "GBP",
    "stage": "Proposal",
    "probability": 50,
    "expected_close": "2026-06-30",
    "owner": 7,
    "next_step": "Send the offer",
    "outcome": "open",
    "close_reason": "",
    "closed_at": None,
    "source": "maturity",
    "created_at": "2026-05-18T06:00:00Z",
    "updated_at": "2026-05-18T06:00:00Z",
}


@documented_reads(
    OPPORTUNITY_EXAMPLE,
    listed=("Opportunities on customers and leads you may see", "A page of opportunities"),
    one=("One opportunity", "An opportunity"),
)
class OpportunityViewSet(ListRetrieveMixin, ApiViewSet[Opportunity]):
    """The sales pipeline: opportunities on customers (or leads) you may see."""

    serializer_class = OpportunityOut
    filterset_class = OpportunityFilter
    required_scopes = {"read": Scope.OPPORTUNITIES_READ, "write": Scope.OPPORTUNITIES_WRITE}

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_list(user=self.request.user).order_by("id")

    @extend_schema(
        summary="Open an opportunity",
        request=OpportunityCreateIn,
        responses={201: OpportunityOut},
        examples=[
            OpenApiExample(
                "A deposit renewal",
                request_only=True,
                value={
                    "customer": 42,
                    "product": 5,
                    "amount": "25000.00",
                    "currency": "GBP",
                    "expected_close": "2026-06-30",
                },
            )
        ],
    )
    @idempotent()
    def create(self, request: ApiRequest) -> Response:
        fields = self.validated(OpportunityCreateIn)
        customer_id, lead_id = fields.pop("customer", None), fields.pop("lead", None)
        customer = lead = None
        if customer_id is not None:
            customer = visible_customers(user=request.user).filter(pk=customer_id).first()
            if customer is None:  # missing and forbidden look alike
                raise serializers.ValidationError({"customer": ["No such customer."]})
        else:
            lead = visible_leads(user=request.user).filter(pk=lead_id).first()
            if lead is None:
                raise serializers.ValidationError({"lead": ["No such lead."]})
        opportunity = create_opportunity(actor=request.user, customer=customer, lead=lead, **fields)
        return self.respond_created(_reloaded(opportunity))

    @extend_schema(summary="Change an open opportunity's figures, next step or owner", request=OpportunityChangeIn)
    @conditional()
    def partial_update(self, request: ApiRequest, pk: str) -> Response:
        changes: dict[str, Any] = self.validated(OpportunityChangeIn, partial=True)
        opportunity = update_opportunity(actor=request.user, opportunity=self.get_object(), **changes)
        return self.respond_with(_reloaded(opportunity))

    @extend_schema(
        summary="Move an open opportunity to a stage", request=OpportunityMoveIn, responses={200: OpportunityOut}
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    @conditional(required=False)
    def move(self, request: ApiRequest, pk: str) -> Response:
        fields = self.validated(OpportunityMoveIn)
        opportunity = move_opportunity(actor=request.user, opportunity=self.get_object(), **fields)
        return self.respond_with(_reloaded(opportunity))

    @extend_schema(
        summary="Win or lose an open opportunity, with the reason",
        request=OpportunityCloseIn,
        responses={200: OpportunityOut},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    @conditional(required=False)
    def close(self, request: ApiRequest, pk: str) -> Response:
        fields = self.validated(OpportunityCloseIn)
        opportunity = close_opportunity(
            actor=request.user, opportunity=self.get_object(), won=fields["outcome"] == "won", reason=fields["reason"]
        )
        return self.respond_with(_reloaded(opportunity))


def _reloaded(opportunity: Opportunity) -> Opportunity:
    """The services return the row they locked (the caller could see it): re-read with what the
    representation names, its customer's personal data unloaded."""
    return (
        Opportunity.objects.select_related("customer", "lead", "product", "stage", "owner")
        .defer(*UNLOADED)
        .get(pk=opportunity.pk)
    )
