"""Leads over the REST API: the bank's website creates them; staff read them.

POST /api/v1/leads/ (scope leads:create) takes an inquiry with an Idempotency-Key, so a
website retry never creates a second lead; the answer carries the lead's id and state only,
never the contact details back. GET list/detail (scope leads:read) go through visible_leads:
a manager sees their own and their branch's unassigned leads; contact details appear as
masked hints only (the inquiry and contact details are read on the lead's page, audited).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.api.conditional import etag_for
from apps.api.filters import DateTimeFilter, IdFilter
from apps.api.idempotency import idempotent
from apps.api.models import Scope
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.customers.book import BookCustomerIdField
from apps.leads.fields import CLOCK_FIELDS, HINT_FIELDS, ORIGIN_FIELDS, READ_FIELDS
from apps.leads.models import Lead
from apps.leads.selectors import lead_list
from apps.leads.services import MAX_INQUIRY_CHARS, MAX_NAME_CHARS, LeadInput, submit_lead


class LeadOut(serializers.ModelSerializer):
    branch = serializers.CharField(source="branch.code", read_only=True, allow_null=True, default=None)
    # The customer a lead became may since have moved to another book: then it is not named.
    customer = BookCustomerIdField(source="customer_id")

    class Meta:
        model = Lead
        fields = (
            "id",
            *ORIGIN_FIELDS,
            *READ_FIELDS,
            "extracted_by",
            "review_reasons",
            "assignee",
            "customer",
            *HINT_FIELDS,
            *CLOCK_FIELDS,
        )
        read_only_fields = fields


class LeadReceived(serializers.ModelSerializer):
    """What the website gets back: enough to refer to the lead, nothing personal."""

    class Meta:
        model = Lead
        fields = ("id", "state", "external_ref", "received_at")
        read_only_fields = fields


class LeadCreateIn(serializers.Serializer):
    inquiry = serializers.RegexField(r"\S", max_length=MAX_INQUIRY_CHARS, help_text="What the person wrote.")
    full_name = serializers.CharField(max_length=MAX_NAME_CHARS, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.RegexField(
        r"^\+?[\d\s().\-]{6,32}$", max_length=32, required=False, allow_blank=True, default=""
    )
    branch = serializers.CharField(
        max_length=16, required=False, allow_blank=True, default="", help_text="Preferred branch code, if chosen."
    )
    external_ref = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The website's own submission id: a lead resent with the same one is not doubled.",
    )

    def validate(self, attrs: dict) -> dict:
        if not (attrs.get("email") or attrs.get("phone")):
            raise serializers.ValidationError({"email": ["Give an e-mail address or a phone number."]})
        return attrs


class LeadFilter(django_filters.FilterSet):
    received_from = DateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_to = DateTimeFilter(field_name="received_at", lookup_expr="lt")
    assignee = IdFilter(field_name="assignee_id")

    class Meta:
        model = Lead
        fields = ("state", "intent", "source", "assignee", "received_from", "received_to")


LEAD_EXAMPLE = {
    "id": 5120,
    "source": "api",
    "external_ref": "web-20261124-0042",
    "branch": "LDN01",
    "state": "assigned",
    "state_changed_at": "2026-11-24T09:12:03Z",
    "intent": "mortgage",
    "intent_confidence": 0.96,
    "requested_amount": "250000.00",
    "requested_amount_confidence": 0.93,
    "monthly_income": "2800.00",
    "monthly_income_confidence": 0.9,
    "currency": "GBP",
    "loan_purpose": "home_purchase",
    "loan_purpose_confidence": 0.9,
    "constraints": ["first_time_buyer"],
    "extracted_by": "llm",
    "review_reasons": [],
    "assignee": 7,
    "customer": None,
    "name_hint": "J. D.",
    "email_hint": "j***@mail.example",
    "phone_hint": "••••123",
    "received_at": "2026-11-24T09:11:58Z",
    "first_contact_due_at": "2026-11-25T09:11:58Z",
    "first_contacted_at": None,
}


@documented_reads(
    LEAD_EXAMPLE,
    listed=("Leads you may see", "A page of leads"),
    one=("One lead", "A lead"),
)
class LeadViewSet(ListRetrieveMixin, ApiViewSet[Lead]):
    """Leads: created by the bank's website, read by staff through the lead selector."""

    serializer_class = LeadOut
    filterset_class = LeadFilter
    required_scopes = {"read": Scope.LEADS_READ, "write": Scope.LEADS_CREATE}

    def get_queryset(self) -> QuerySet[Lead]:
        return lead_list(user=self.request.user).order_by("id")

    @extend_schema(
        summary="Submit a lead from the website",
        request=LeadCreateIn,
        responses={201: LeadReceived},
        examples=[
            OpenApiExample(
                "A mortgage inquiry",
                request_only=True,
                value={
                    "inquiry": "I'd like to buy my first home, mortgage of about £250,000; I earn £2,800 a month.",
                    "full_name": "Jane Doe",
                    "email": "jane.doe@mail.example",
                    "branch": "LDN01",
                    "external_ref": "web-20261124-0042",
                },
            )
        ],
    )
    @idempotent()
    def create(self, request: ApiRequest) -> Response:
        fields = self.validated(LeadCreateIn)
        lead = submit_lead(
            actor=request.user,
            source=Lead.Source.API,
            data=LeadInput(
                inquiry=fields["inquiry"],
                full_name=fields["full_name"],
                email=fields["email"],
                phone=fields["phone"],
                branch_code=fields["branch"],
                external_ref=fields["external_ref"],
            ),
        )
        body = LeadReceived(lead).data
        headers = {"Location": f"{request.path.rstrip('/')}/{lead.pk}/", "ETag": etag_for(body)}
        return Response(body, status=201, headers=headers)
