"""Interactions over the REST API: list, read, log (idempotent), and the author's edit window.

Reads start from visible_interactions (confidential entries only for the author, the
customer's primary manager and compliance); writes go through apps.interactions.services.
Interactions are never deleted; after the edit window a mistake is fixed by logging a
correction (`corrects`). Attachments are listed by metadata; files are uploaded and
downloaded through the permission-checked pages, not through this JSON-only API.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.api.conditional import conditional
from apps.api.filters import DateTimeFilter, IdFilter
from apps.api.idempotency import idempotent
from apps.api.models import Scope
from apps.api.schema import MAX_ID
from apps.api.viewsets import ApiRequest, ApiViewSet, ListRetrieveMixin, documented_reads
from apps.core.text_limits import NOTE_MAX_LENGTH
from apps.customers.models import PII_FIELDS
from apps.customers.visibility import visible_customers
from apps.interactions.models import Attachment, Interaction
from apps.interactions.selectors import visible_interactions
from apps.interactions.services import edit_interaction, log_interaction


class AttachmentOut(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ("id", "content_type", "size", "sha256", "created_at")
        read_only_fields = fields


class InteractionOut(serializers.ModelSerializer):
    attachments = AttachmentOut(many=True, read_only=True)

    class Meta:
        model = Interaction
        fields = (
            "id",
            "customer",
            "author",
            "channel",
            "occurred_at",
            "subject",
            "body",
            "outcome",
            "next_step",
            "is_confidential",
            "corrects",
            "attachments",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class InteractionChangeIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Interaction.Channel.choices, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    subject = serializers.RegexField(r"\S", max_length=200, required=False)
    body = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)
    outcome = serializers.CharField(max_length=300, required=False, allow_blank=True)
    next_step = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_confidential = serializers.BooleanField(required=False)


class InteractionCreateIn(InteractionChangeIn):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    channel = serializers.ChoiceField(choices=Interaction.Channel.choices)
    subject = serializers.RegexField(r"\S", max_length=200)
    corrects = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Id of the entry this one corrects."
    )


class InteractionFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    occurred_from = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_to = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ("customer", "channel", "occurred_from", "occurred_to")


INTERACTION_EXAMPLE = {
    "id": 77,
    "customer": 42,
    "author": 7,
    "channel": "phone",
    "occurred_at": "2026-05-18T10:15:00Z",
    "subject": "Deposit renewal",
    "body": "Customer wants to renew for 12 months.",
    "outcome": "Agreed",
    "next_step": "Send renewal terms",
    "is_confidential": False,
    "corrects": None,
    "attachments": [],
    "created_at": "2026-05-18T10:20:00Z",
    "updated_at": "2026-05-18T10:20:00Z",
}


@documented_reads(
    INTERACTION_EXAMPLE,
    listed=("Interactions you may read", "A page of interactions"),
    one=("One interaction", "A phone call"),
)
class InteractionViewSet(ListRetrieveMixin, ApiViewSet[Interaction]):
    """Calls, emails, meetings and notes with customers you may see (confidential ones: author, manager, compliance)."""

    serializer_class = InteractionOut
    filterset_class = InteractionFilter
    required_scopes = {"read": Scope.INTERACTIONS_READ, "write": Scope.INTERACTIONS_WRITE}

    def get_queryset(self) -> QuerySet[Interaction]:
        return visible_interactions(user=self.request.user).prefetch_related("attachments").order_by("id")

    @extend_schema(
        summary="Log an interaction",
        request=InteractionCreateIn,
        responses={201: InteractionOut},
        examples=[
            OpenApiExample(
                "A phone call",
                request_only=True,
                value={"customer": 42, "channel": "phone", "subject": "Deposit renewal", "outcome": "Agreed"},
            )
        ],
    )
    @idempotent()
    def create(self, request: ApiRequest) -> Response:
        fields = self.validated(InteractionCreateIn)
        customer = visible_customers(user=request.user).defer(*PII_FIELDS).filter(pk=fields.pop("customer")).first()
        if customer is None:
            raise serializers.ValidationError({"customer": ["No such customer."]})
        corrects_id = fields.pop("corrects", None)
        corrects = None
        if corrects_id is not None:
            corrects = visible_interactions(user=request.user).filter(pk=corrects_id).first()
            if corrects is None:
                raise serializers.ValidationError({"corrects": ["No such interaction."]})
        interaction = log_interaction(actor=request.user, customer=customer, corrects=corrects, **fields)
        return self.respond_created(interaction)

    @extend_schema(summary="Fix your own interaction within the edit window", request=InteractionChangeIn)
    @conditional()
    def partial_update(self, request: ApiRequest, pk: str) -> Response:
        changes = self.validated(InteractionChangeIn, partial=True)
        interaction = edit_interaction(actor=request.user, interaction=self.get_object(), **changes)
        return self.respond_with(interaction)
