"""Customers over the REST API: masked by default, PII only through an audited reveal.

Reads start from the visibility rule, visible_customers_by_id (another manager's customer is a
404, never a 403); writes go through apps.customers.services. Customers are never deleted:
closing one is `PATCH {"status": "closed"}`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.conditional import conditional
from apps.api.filters import DateTimeFilter, TextFilter
from apps.api.idempotency import idempotent
from apps.api.models import Scope
from apps.api.representation import PlannedRepresentation
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.core.audit import record_pii_reveal
from apps.core.currencies import CURRENCY_CHOICES
from apps.core.text_limits import ADDRESS_MAX_LENGTH
from apps.customers import validation as customer_rules
from apps.customers.book import OUTSIDE_BOOK, book_for
from apps.customers.fields import BANKING_FIELDS, DOCUMENT_FIELDS, HINT_FIELDS, NAME_FIELDS
from apps.customers.models import PII_FIELDS, Customer, CustomerRelationship, IdentityDocument
from apps.customers.pii import revealed_pii
from apps.customers.services import create_customer, update_customer
from apps.customers.validation import (
    EXTERNAL_ID_MAX_LENGTH,
    validate_country,
    validate_external_id,
    validate_national_id,
)
from apps.customers.visibility import visible_customers_by_id
from apps.identity.models import Branch, User
from apps.products.models import RiskProfile, Segment

# --- Output -------------------------------------------------------------------------------


# Its fields are built once per process (apps/api/representation.py); the docstring is the schema's.
class CustomerOut(PlannedRepresentation, serializers.ModelSerializer):
    """A customer as integrations see it: personal data only as masked hints."""

    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    primary_manager = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    annual_income = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = (
            "id",
            "external_id",
            "kind",
            "display_name",
            *NAME_FIELDS,
            *HINT_FIELDS,
            "country",
            *BANKING_FIELDS,
            "branch",
            "primary_manager",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class CustomerPiiOut(serializers.Serializer):
    date_of_birth = serializers.DateField(allow_null=True)
    national_id = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)


class RelationshipOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CustomerRelationship.Kind.choices)
    direction = serializers.ChoiceField(
        choices=[("outgoing", "This customer → related"), ("incoming", "Related → this customer")]
    )
    related_customer = serializers.IntegerField(allow_null=True, help_text="Null when outside_book.")
    related_display_name = serializers.CharField(allow_null=True, help_text="Null when outside_book.")
    outside_book = serializers.BooleanField(
        help_text=f'The related customer is outside your book ("{OUTSIDE_BOOK}"): no id or name is given.'
    )
    created_at = serializers.DateTimeField()


class DocumentOut(serializers.ModelSerializer):
    class Meta:
        model = IdentityDocument
        fields = ("id", *DOCUMENT_FIELDS, "created_at")
        read_only_fields = fields


# --- Input --------------------------------------------------------------------------------


def _pii_field(max_length: int, help_text: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, write_only=True, help_text=help_text
    )


class CustomerChangeIn(serializers.Serializer):
    """Fields a client may set; personal data is write-only (read it back through /pii/)."""

    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    first_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=160, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True, write_only=True)
    national_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        write_only=True,
        validators=[validate_national_id],
        help_text="Stored encrypted; lists show a masked hint.",
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, write_only=True)
    phone = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Any usual form (+44 7700 900059, 07700 900059); a number without a country code is in"
        " the bank's region (FINPULSE_PHONE_REGION). Indexed in E.164, so every form finds the customer.",
    )
    address = _pii_field(ADDRESS_MAX_LENGTH, "Stored encrypted.")
    country = serializers.RegexField(
        r"^[A-Z]{2}$", required=False, validators=[validate_country], help_text="ISO 3166 alpha-2."
    )
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    risk_profile = serializers.ChoiceField(choices=RiskProfile.choices, required=False)
    annual_income = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    income_currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    kyc_status = serializers.ChoiceField(choices=Customer.KycStatus.choices, required=False)
    kyc_review_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Customer.Status.choices, required=False)
    customer_since = serializers.DateField(required=False, allow_null=True)

    def validate_phone(self, value: str) -> str:
        """The importer's rule (apps/customers/validation.py): one schema for both."""
        if value:
            try:
                customer_rules.phone(value)
            except ValueError as error:
                raise serializers.ValidationError(str(error)) from None
        return value


class CustomerCreateIn(CustomerChangeIn):
    external_id = serializers.RegexField(
        r"^[A-Za-z0-9_\-./:]+$",
        max_length=EXTERNAL_ID_MAX_LENGTH,
        validators=[validate_external_id],
        help_text="Id in the core banking system: letters, digits and - _ . / : (the importer's rule).",
    )
    branch = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Branch.objects.filter(is_active=True),
        required=False,
        help_text="Branch code; defaults to the caller's branch.",
    )
    manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Primary relationship manager (assigning needs a branch manager or administrator).",
    )


# --- Filters ------------------------------------------------------------------------------


class CustomerFilter(django_filters.FilterSet):
    external_id = TextFilter()
    branch = TextFilter(field_name="branch__code")
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ("external_id", "segment", "status", "kyc_status", "kind", "branch", "updated_since")


# --- Views --------------------------------------------------------------------------------

CUSTOMER_EXAMPLE = {
    "id": 42,
    "external_id": "CB00012345",
    "kind": "individual",
    "display_name": "Jane Doe",
    "first_name": "Jane",
    "last_name": "Doe",
    "company_name": "",
    "national_id_hint": "••••45C",
    "email_hint": "j***@mail.example",
    "phone_hint": "••••123",
    "country": "GB",
    "segment": "affluent",
    "risk_profile": 3,
    "annual_income": "85000.00",
    "income_currency": "GBP",
    "kyc_status": "verified",
    "kyc_review_date": "2027-03-31",
    "branch": "LDN01",
    "primary_manager": 7,
    "status": "active",
    "customer_since": "2019-06-01",
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-02-11T14:02:11.123456Z",
}


@documented_reads(
    CUSTOMER_EXAMPLE,
    listed=("List customers you may see", "A page of customers"),
    one=("One customer (masked personal data)", "A customer"),
)
class CustomerViewSet(ListRetrieveMixin, ApiViewSet[Customer]):
    """Customers you may see (assigned to you, your branch, or all for compliance). Personal data is masked."""

    serializer_class = CustomerOut
    filterset_class = CustomerFilter
    required_scopes = {
        "read": Scope.CUSTOMERS_READ,
        "write": Scope.CUSTOMERS_WRITE,
        "pii": Scope.CUSTOMERS_PII,
    }

    def get_queryset(self) -> QuerySet[Customer]:
        # PII columns stay unloaded: loading them would decrypt five fields per row.
        customers = visible_customers_by_id(user=self.request.user)
        return customers.select_related("branch").defer(*PII_FIELDS).order_by("id")

    @extend_schema(
        summary="Create a customer",
        request=CustomerCreateIn,
        responses={201: CustomerOut},
        examples=[
            OpenApiExample(
                "A new individual customer",
                request_only=True,
                value={
                    "external_id": "CB00012345",
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "email": "jane.doe@mail.example",
                    "segment": "affluent",
                },
            )
        ],
    )
    @idempotent()
    def create(self, request: ApiRequest) -> Response:
        fields = self.validated(CustomerCreateIn)
        branch = fields.pop("branch", None) or request.user.branch
        manager = fields.pop("manager", None)
        if branch is None:
            raise serializers.ValidationError({"branch": ["Give a branch code (you have no branch of your own)."]})
        customer = create_customer(
            actor=request.user, external_id=fields.pop("external_id"), branch=branch, manager=manager, **fields
        )
        return self.respond_created(customer)

    @extend_schema(summary="Change a customer (close it with status=closed)", request=CustomerChangeIn)
    @conditional()
    def partial_update(self, request: ApiRequest, pk: str) -> Response:
        changes = self.validated(CustomerChangeIn, partial=True)
        customer = update_customer(actor=request.user, customer=self.get_object(), **changes)
        return self.respond_with(customer)

    @extend_schema(
        summary="Reveal a customer's personal data (audited)",
        parameters=[OpenApiParameter("reason", str, description="Why you need it (kept in the audit trail).")],
        responses={200: CustomerPiiOut},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def pii(self, request: ApiRequest, pk: str) -> Response:
        customer = self.get_object()
        # The reveal is recorded before the values leave the building.
        record_pii_reveal(
            actor=request.user, target=customer, fields=PII_FIELDS, reason=request.query_params.get("reason", "")
        )
        values = revealed_pii(customer=customer, fields=list(PII_FIELDS))
        return Response(CustomerPiiOut(values).data)

    @extend_schema(
        summary="Relationships; a related customer outside your book is flagged, with no id or name",
        responses=RelationshipOut(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def relationships(self, request: ApiRequest, pk: str) -> Response:
        customer = self.get_object()
        links = CustomerRelationship.objects.filter(Q(from_customer=customer) | Q(to_customer=customer))
        page = self.paginate_queryset(links)
        book = book_for(request._request)
        others = [
            link.to_customer_id if link.from_customer_id == customer.pk else link.from_customer_id for link in page
        ]
        seen = book.sees_ids(others)
        names = dict(Customer.objects.filter(pk__in=seen).values_list("pk", "display_name")) if seen else {}
        return self.get_paginated_response(
            RelationshipOut([_relationship(link, customer, names) for link in page], many=True).data
        )

    @extend_schema(summary="Identity documents (numbers masked)", responses=DocumentOut(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def documents(self, request: ApiRequest, pk: str) -> Response:
        customer = self.get_object()
        documents = IdentityDocument.objects.filter(customer=customer).defer("number")
        page = self.paginate_queryset(documents)
        return self.get_paginated_response(DocumentOut(page, many=True).data)


def _relationship(link: CustomerRelationship, customer: Customer, names: dict[int, str]) -> dict[str, Any]:
    """One link; `names` holds the related customers the caller may see (by id), nobody else."""
    outgoing = link.from_customer_id == customer.pk
    other = link.to_customer_id if outgoing else link.from_customer_id
    inside = other in names
    return {
        "id": link.pk,
        "kind": link.kind,
        "direction": "outgoing" if outgoing else "incoming",
        "related_customer": other if inside else None,
        "related_display_name": names[other] if inside else None,
        "outside_book": not inside,
        "created_at": link.created_at,
    }
