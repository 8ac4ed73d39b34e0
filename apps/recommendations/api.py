"""Product advice over the REST API: read advice, read the latest for a customer, ask for fresh advice.

Advice is read through visible_recommendations (the customer selector decides). Asking for
fresh advice is an action that creates a record (and may cost a vendor call), so it needs an
Idempotency-Key: a retried request gets the first answer instead of a second call. It runs
synchronously and always answers: the rule engine stands in when the LLM is unavailable, and
the answer says which engine produced it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.filters import IdFilter
from apps.api.idempotency import idempotent
from apps.api.models import Scope
from apps.api.schema import ID_SCHEMA, MAX_ID
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.core.errors import NotFound
from apps.customers.visibility import visible_customers
from apps.recommendations.fields import ADVICE_FIELDS, COST_FIELDS, ORIGIN_FIELDS
from apps.recommendations.models import Recommendation
from apps.recommendations.selectors import PROFILE_FIELDS, visible_recommendations
from apps.recommendations.services import ensure_can_ask_for_advice, recommend_for_customer


class RecommendationItemOut(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_code = serializers.CharField()
    product_name = serializers.CharField()
    category = serializers.CharField()
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    confidence = serializers.FloatField(allow_null=True, help_text="The LLM's confidence; null from the rule engine.")
    rationale = serializers.CharField()
    rules_passed = serializers.ListField(child=serializers.CharField())


class DroppedItemOut(serializers.Serializer):
    product_code = serializers.CharField()
    reason = serializers.CharField()


class RecommendationOut(serializers.ModelSerializer):
    items = RecommendationItemOut(many=True, read_only=True)
    dropped_items = DroppedItemOut(many=True, read_only=True)

    class Meta:
        model = Recommendation
        fields = (
            "id",
            "customer",
            "created_at",
            *ORIGIN_FIELDS,
            "profile_hash",
            "from_cache",
            *ADVICE_FIELDS,
            *COST_FIELDS,
        )
        read_only_fields = fields


class RefreshIn(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class RecommendationFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id")

    class Meta:
        model = Recommendation
        fields = ("customer", "source")


EXAMPLE = {
    "id": 77,
    "customer": 42,
    "created_at": "2026-05-18T09:12:00Z",
    "source": "llm",
    "fallback_reason": "",
    "model": "gpt-4o-mini",
    "prompt_version": "reco-2026-12-v2",
    "profile_hash": "3f5a…",
    "from_cache": False,
    "items": [
        {
            "product_id": 5,
            "product_code": "TD12",
            "product_name": "12-month term deposit",
            "category": "deposit",
            "rank": 1,
            "score": 6.41,
            "confidence": 0.8,
            "rationale": "A term deposit matures within 30 days; recent contacts were about saving.",
            "rules_passed": ["The customer consented to profiling for product advice.", "Age 45 is within the limit."],
        }
    ],
    "dropped_items": [],
    "latency_ms": 850,
    "prompt_tokens": 612,
    "completion_tokens": 140,
    "cost": "0.000176",
}


def documents_problems(*statuses: int) -> Any:
    """Declare problem statuses the schema cannot infer (a customer named in the query or body)."""

    def decorate(handler: Any) -> Any:
        handler.problem_statuses = statuses
        return handler

    return decorate


CUSTOMER_PARAM = OpenApiParameter("customer", ID_SCHEMA, required=True, description="The customer's id.")


@documented_reads(
    EXAMPLE,
    listed=("Advice given on customers you may see (newest id last)", "A page of advice"),
    one=("One piece of advice", "Advice"),
)
class RecommendationViewSet(ListRetrieveMixin, ApiViewSet[Recommendation]):
    """Product advice for relationship managers (never advice addressed to the customer)."""

    serializer_class = RecommendationOut
    filterset_class = RecommendationFilter
    required_scopes = {"read": Scope.RECOMMENDATIONS_READ, "write": Scope.RECOMMENDATIONS_WRITE}

    def get_queryset(self) -> QuerySet[Recommendation]:
        return visible_recommendations(user=self.request.user).defer("snapshot", "prompt", "response").order_by("id")

    @documents_problems(400, 404)
    @extend_schema(
        summary="The latest advice for a customer",
        parameters=[CUSTOMER_PARAM],
        responses={200: RecommendationOut},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def latest(self, request: ApiRequest) -> Response:
        asked = self.validated(RefreshIn, data={"customer": request.query_params.get("customer")})
        advice = self.get_queryset().filter(customer_id=asked["customer"]).order_by("-created_at", "-id").first()
        if advice is None:
            raise NotFound("No advice for this customer yet (or no such customer).")
        return self.respond_with(advice)

    @documents_problems(404)
    @extend_schema(
        summary="Ask for fresh advice for a customer (needs an Idempotency-Key)",
        request=RefreshIn,
        responses={201: RecommendationOut},
        examples=[OpenApiExample("Fresh advice", request_only=True, value={"customer": 42})],
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    @idempotent()
    def refresh(self, request: ApiRequest) -> Response:
        asked = self.validated(RefreshIn)
        customer = visible_customers(user=request.user).only(*PROFILE_FIELDS).filter(pk=asked["customer"]).first()
        if customer is None:
            # Missing and forbidden look alike.
            raise NotFound("No such customer.")
        ensure_can_ask_for_advice(request.user)
        advice = recommend_for_customer(actor=request.user, customer=customer, force=True)
        advice = self.get_queryset().get(pk=advice.pk)
        return self.respond_created(advice)
