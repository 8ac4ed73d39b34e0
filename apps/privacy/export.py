"""Subject access and portability (GDPR Art. 15, 20): everything held about one customer.

One function gathers it; the JSON download and the readable HTML report both render it, so
they cannot disagree. Documents are exported as metadata (type, masked number, country,
dates), attachments as name, type, size and checksum: the files themselves are served by the
interactions app's checked view. Audit events are the ones about the customer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core import serializers
from django.db import models, transaction
from django.db.models import Q

from apps.accounts.models import Holding
from apps.agenda.models import Meeting
from apps.alerts.models import Alert
from apps.core.audit import record_audit_event
from apps.core.data_keys import data_key_scope
from apps.core.models import AuditEvent
from apps.customers.fields import DOCUMENT_FIELDS
from apps.customers.models import Customer, CustomerConsent, CustomerRelationship, IdentityDocument
from apps.interactions.models import Attachment, Interaction
from apps.notifications.models import Notification
from apps.privacy.models import ErasureRequest
from apps.privacy.services import ensure_data_subject_officer
from apps.recommendations.models import Recommendation
from apps.tasks.models import Task

if TYPE_CHECKING:
    from apps.identity.models import User

EXPORT_VERSION = 1
PROFILE_EXCLUDE = {"data_key_id", "national_id_index", "email_index", "phone_index"}  # keys, not data
DOCUMENT_EXPORT = [*DOCUMENT_FIELDS, "created_at"]
ATTACHMENT_FIELDS = ["interaction", "original_name", "content_type", "size", "sha256", "created_at"]
# What a meeting said and when; the colleagues invited are the bank's staff, not the subject's data.
MEETING_FIELDS = ["title", "starts_at", "ends_at", "location", "video_url", "agenda", "status", "interaction"]


def _rows(queryset: Iterable[models.Model], fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Each row as {"id": ..., field: value}, values as JSON types (dates as ISO text)."""
    data = serializers.serialize("json", queryset, fields=fields)
    return [{"id": item["pk"], **item["fields"]} for item in json.loads(data)]


def subject_data(*, customer: Customer) -> dict[str, Any]:
    """Every record the bank holds about this customer, by kind (the export's one source)."""
    with data_key_scope():
        profile = _rows([Customer.objects.get(pk=customer.pk)])[0]
        for name in PROFILE_EXCLUDE:
            profile.pop(name, None)
        interactions = Interaction.objects.filter(customer=customer).order_by("pk")
        sections = {
            "profile": profile,
            "holdings": _rows(Holding.objects.filter(parties__customer=customer).order_by("pk")),
            "interactions": _rows(interactions),
            "attachments": _rows(
                Attachment.objects.filter(interaction__customer=customer).order_by("pk"), ATTACHMENT_FIELDS
            ),
            "documents": _rows(IdentityDocument.objects.filter(customer=customer).order_by("pk"), DOCUMENT_EXPORT),
            "consents": _rows(CustomerConsent.objects.filter(customer=customer).order_by("pk")),
            "relationships": _rows(
                CustomerRelationship.objects.filter(Q(from_customer=customer) | Q(to_customer=customer)).order_by("pk")
            ),
            "recommendations": _rows(Recommendation.objects.filter(customer=customer).order_by("pk")),
            "tasks": _rows(Task.objects.filter(customer=customer).order_by("pk")),
            "meetings": _rows(Meeting.objects.filter(customer=customer).order_by("pk"), MEETING_FIELDS),
            "alerts": _rows(Alert.objects.filter(customer=customer).order_by("pk")),
            "notifications": _rows(Notification.objects.filter(recipient_customer=customer).order_by("pk")),
            "erasure_requests": _rows(ErasureRequest.objects.filter(customer=customer).order_by("pk")),
            "audit_events": _rows(
                AuditEvent.objects.filter(customer_id=customer.pk).order_by("pk"),
                ["occurred_at", "actor_label", "action", "object_type", "object_id", "changes", "metadata"],
            ),
        }
    return {"format": "finpulse-subject-export", "version": EXPORT_VERSION, "customer": customer.pk, **sections}


@transaction.atomic
def export_subject_data(*, actor: User, customer: Customer, fmt: str) -> dict[str, Any]:
    """A compliance officer's subject-access export; the export itself is an audit event."""
    ensure_data_subject_officer(actor)
    data = subject_data(customer=customer)
    record_audit_event(
        actor=actor,
        action="customer.subject_exported",
        target=customer,
        metadata={"format": fmt, "records": {k: len(v) for k, v in data.items() if isinstance(v, list)}},
    )
    return data
