"""The product catalog and its rate history over the REST API (read-only).

The catalog is the bank's, not a customer's: every employee (and any key with products:read)
reads all of it. Rates are append-only dated rows (`GET /products/{id}/rates/`), so the history
answers "what was the rate on a given day".
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.filters import TextFilter
from apps.api.models import Scope
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.products.fields import FEE_FIELDS, RATE_FIELDS, TERMS_FIELDS
from apps.products.models import Product, ProductFee, ProductRate


class ProductFeeOut(serializers.ModelSerializer):
    class Meta:
        model = ProductFee
        fields = FEE_FIELDS
        read_only_fields = fields


class ProductOut(serializers.ModelSerializer):
    fees = ProductFeeOut(many=True, read_only=True)
    branches = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text="Branch codes; empty means every branch."
    )

    class Meta:
        model = Product
        fields = (
            "id",
            "code",
            "name",
            "category",
            *TERMS_FIELDS,
            "branches",
            "fees",
            "is_active",
            "updated_at",
        )
        read_only_fields = fields


class ProductRateOut(serializers.ModelSerializer):
    class Meta:
        model = ProductRate
        fields = ("id", *RATE_FIELDS, "created_at")
        read_only_fields = fields


class ProductFilter(django_filters.FilterSet):
    code = TextFilter()

    class Meta:
        model = Product
        fields = ("code", "category", "is_active")


PRODUCT_EXAMPLE = {
    "id": 3,
    "code": "TD12",
    "name": "12-month fixed term deposit",
    "category": "deposit",
    "description": "",
    "currency": "GBP",
    "min_term_months": 12,
    "max_term_months": 12,
    "min_amount": "1000.00",
    "max_amount": None,
    "min_age": 18,
    "max_age": None,
    "min_annual_income": None,
    "eligible_segments": [],
    "min_risk_profile": None,
    "max_risk_profile": None,
    "for_individuals": True,
    "for_businesses": False,
    "branches": [],
    "fees": [],
    "is_active": True,
    "updated_at": "2026-01-02T10:00:00Z",
}


@documented_reads(
    PRODUCT_EXAMPLE,
    listed=("The product catalog", "A page of products"),
    one=("One product", "A deposit"),
)
class ProductViewSet(ListRetrieveMixin, ApiViewSet[Product]):
    """The bank's product catalog, readable by every employee."""

    serializer_class = ProductOut
    filterset_class = ProductFilter
    http_method_names = ["get", "head", "options"]
    required_scopes = {"read": Scope.PRODUCTS_READ}
    # Not customer data: the permission-matrix test records why there is no per-manager scoping.
    catalog_shared_by_all_staff = True

    def get_queryset(self) -> QuerySet[Product]:
        products = Product.objects.order_by("id")
        if self.action in ("list", "retrieve"):
            products = products.prefetch_related("fees", "branches")
        return products

    @extend_schema(
        summary="The product's rate history: every dated slab, never overwritten", responses=ProductRateOut(many=True)
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def rates(self, request: ApiRequest, pk: str) -> Response:
        product = self.get_object()
        page = self.paginate_queryset(ProductRate.objects.filter(product=product))
        return self.get_paginated_response(ProductRateOut(page, many=True).data)
