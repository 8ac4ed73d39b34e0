"""Data-subject rights: erasure with retention holds (GDPR Art. 17, 18), and its audit trail.

Erasure is crypto-shredding: the customer's data key is destroyed (apps.core.data_keys), so
the ciphertext of its personal data is unreadable wherever a copy of it lies, and the columns
are cleared as well. Records under a retention hold (apps.privacy.retention) are kept and the
customer restricted until the hold ends; `release_retention_holds` (beat, daily) then finishes.
Every step writes one audit event holding references only (ids, record types, dates): no
personal data goes into the chain, so erasure never has to touch it and it still verifies.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.agenda.models import Meeting
from apps.alerts.models import Alert
from apps.core.audit import record_audit_event
from apps.core.business_date import business_today
from apps.core.data_keys import destroy_data_key
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.customers.book_facts import forget_books
from apps.customers.models import (
    Customer,
    CustomerAssignment,
    CustomerConsent,
    CustomerRelationship,
    CustomerUserObjectPermission,
    IdentityDocument,
)
from apps.interactions.models import Attachment, Interaction
from apps.leads.models import Lead
from apps.notifications.models import Notification
from apps.privacy.models import ErasureRequest
from apps.privacy.retention import retention_holds, running_holds
from apps.recommendations.models import Recommendation, RecommendationFeedback
from apps.tasks.models import Task

if TYPE_CHECKING:
    from apps.identity.models import User

ERASED_NAME = "Erased customer"
REFERENCE_MAX_LENGTH = 200


def may_handle_data_subject_requests(user: User) -> bool:
    """Compliance officers export and erase personal data on a data subject's request."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_compliance_officer)


def ensure_data_subject_officer(actor: User) -> None:
    if not may_handle_data_subject_requests(actor):
        raise PermissionDenied("Only a compliance officer may act on a data subject's request.")


def clean_reference(reference: str | None) -> str:
    text = " ".join((reference or "").split())
    if not text:
        raise DomainError("Give the request's reference (e.g. the ticket number).", field="reference")
    if len(text) > REFERENCE_MAX_LENGTH:
        raise DomainError(f"Keep the reference under {REFERENCE_MAX_LENGTH} characters.", field="reference")
    return text


def _erase_activity(customer: Customer) -> dict[str, int]:
    """Delete what no hold keeps: notes and their files, meetings, tasks, alerts, advice, consents, links."""
    attachments = Attachment.objects.filter(interaction__customer=customer)
    files = list(attachments.values_list("storage_path", flat=True))
    counts = {"attachments": attachments.delete()[0]}
    # Meetings first: a logged meeting points at its interaction (and says what it was about).
    counts["meetings"] = Meeting.objects.filter(customer=customer).delete()[1].get(Meeting._meta.label, 0)
    counts["interactions"] = Interaction.objects.filter(customer=customer).delete()[0]
    RecommendationFeedback.objects.filter(recommendation__customer=customer).delete()
    counts["recommendations"] = Recommendation.objects.filter(customer=customer).delete()[0]
    counts["tasks"] = Task.objects.filter(customer=customer).delete()[0]
    counts["alerts"] = Alert.objects.filter(customer=customer).delete()[0]
    counts["notifications"] = Notification.objects.filter(recipient_customer=customer).delete()[0]
    counts["consents"] = CustomerConsent.objects.filter(customer=customer).delete()[0]
    counts["relationships"] = CustomerRelationship.objects.filter(
        Q(from_customer=customer) | Q(to_customer=customer)
    ).delete()[0]
    # A converted lead must keep its customer: its applicant's words and contact details go.
    counts["leads"] = Lead.objects.filter(customer=customer).update(
        inquiry="[erased]", full_name=None, name_hint="", email=None, email_index=None, email_hint="",
        phone=None, phone_index=None, phone_hint="",
    )  # fmt: skip
    # Files go once the transaction commits (a rollback must not leave rows without files).
    transaction.on_commit(lambda: _delete_files(files))
    return counts


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _clear_contact_details(customer: Customer) -> None:
    """What no hold needs (how to reach the person): cleared at once, even when deferred."""
    for name in ("email", "phone"):
        setattr(customer, name, "")
        setattr(customer, f"{name}_index", None)
        setattr(customer, f"{name}_hint", "")


def _restrict(customer: Customer, now: dt.datetime) -> None:
    """Art. 18: nobody but compliance sees the customer any more (managers lose their access)."""
    customer.restricted_at = customer.restricted_at or now
    forget_books()  # the customer leaves every book (the branch filters of its managers)
    CustomerUserObjectPermission.objects.filter(content_object=customer).delete()
    CustomerAssignment.objects.filter(customer=customer, ended_at__isnull=True).update(ended_at=now)
    customer.primary_manager = None


def _shred(customer: Customer, now: dt.datetime) -> dict[str, int]:
    """Destroy the key, clear every personal field, delete documents, detach holdings."""
    if customer.data_key_id:
        destroy_data_key(customer.data_key_id, reason=f"erasure of customer {customer.pk}")
    for name in ("date_of_birth", "national_id", "email", "phone", "address"):
        setattr(customer, name, None if name == "date_of_birth" else "")
    for name in ("national_id", "email", "phone"):
        setattr(customer, f"{name}_index", None)  # the blind index would still match the old value
        setattr(customer, f"{name}_hint", "")
    customer.first_name, customer.last_name, customer.company_name = "", "", ""
    customer.display_name = f"{ERASED_NAME} #{customer.pk}"
    customer.annual_income = None
    customer.status = Customer.Status.CLOSED
    customer.erased_at = now
    _restrict(customer, now)
    counts = {"documents": IdentityDocument.objects.filter(customer=customer).delete()[0]}
    holding_ids = list(HoldingParty.objects.filter(customer=customer).values_list("holding_id", flat=True))
    counts["holding_parties"] = HoldingParty.objects.filter(customer=customer).delete()[0]
    # A holding nobody else is party to keeps its figures (the bank's books), not its number.
    orphans = Holding.objects.filter(pk__in=holding_ids).exclude(parties__isnull=False)
    orphans.update(number=None, number_hint="")
    return counts


_CUSTOMER_FIELDS = [
    "date_of_birth", "national_id", "national_id_index", "national_id_hint", "email", "email_index", "email_hint",
    "phone", "phone_index", "phone_hint", "address", "first_name", "last_name", "company_name", "display_name",
    "annual_income", "status", "erased_at", "restricted_at", "primary_manager", "updated_at",
]  # fmt: skip


@transaction.atomic
def request_erasure(
    *, actor: User, customer: Customer, reference: str, relationship_ended_on: dt.date | None = None
) -> ErasureRequest:
    """Erase a customer now, or as far as the retention holds allow, or refuse and say why.

    Refused while the customer still holds an active product (the relationship has not
    ended). Otherwise what no hold keeps is deleted at once, and either the data key is
    destroyed (no running hold) or the customer is restricted until the last hold ends.
    """
    ensure_data_subject_officer(actor)
    reference = clean_reference(reference)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at:
        raise Conflict("This customer's personal data has already been erased.")
    today = business_today()
    if relationship_ended_on and relationship_ended_on > today:
        raise DomainError("The relationship cannot end in the future.", field="relationship_ended_on")
    now = timezone.now()
    request = ErasureRequest(
        customer=customer, requested_by=actor, requested_at=now, reference=reference,
        relationship_ended_on=relationship_ended_on or today,
    )  # fmt: skip
    active = Holding.objects.filter(parties__customer=customer, status=Holding.Status.ACTIVE).count()
    if active:
        request.status = ErasureRequest.Status.REFUSED
        request.refused_because = (
            f"The customer still holds {active} active product(s): the relationship has not ended, "
            "so the bank still needs this data to run it (GDPR Art. 17(3)(b))."
        )
        request.save()
        record_audit_event(
            actor=actor, action="customer.erasure_refused", target=customer,
            metadata={"request": request.pk, "active_holdings": active},
        )  # fmt: skip
        return request

    holds = running_holds(
        retention_holds(customer=customer, relationship_ended_on=relationship_ended_on or today), today=today
    )
    erased = _erase_activity(customer)
    if holds:
        _clear_contact_details(customer)
        _restrict(customer, now)
        request.status = ErasureRequest.Status.DEFERRED
        request.holds = [hold.as_json() for hold in holds]
        request.erase_after = max(hold.until for hold in holds)
        action = "customer.erasure_deferred"
    else:
        erased |= _shred(customer, now)
        request.status = ErasureRequest.Status.COMPLETED
        request.completed_at = now
        action = "customer.erased"
    customer.updated_at = now
    customer.save(update_fields=_CUSTOMER_FIELDS)
    request.save()
    record_audit_event(
        actor=actor, action=action, target=customer,
        metadata={
            "request": request.pk,
            "deleted": {name: count for name, count in erased.items() if count},
            "holds": [{"record_type": h.record_type, "until": h.until.isoformat()} for h in holds],
        },
    )  # fmt: skip
    return request


@transaction.atomic
def release_hold(*, request: ErasureRequest, today: dt.date) -> ErasureRequest:
    """The last hold has ended: finish the erasure the customer asked for (system action)."""
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ErasureRequest.Status.DEFERRED or request.erase_after is None or request.erase_after > today:
        return request
    customer = Customer.objects.select_for_update().get(pk=request.customer_id)
    now = timezone.now()
    counts = _shred(customer, now) if not customer.erased_at else {}
    customer.updated_at = now
    customer.save(update_fields=_CUSTOMER_FIELDS)
    request.status = ErasureRequest.Status.COMPLETED
    request.completed_at = now
    request.save(update_fields=["status", "completed_at"])
    record_audit_event(
        actor=None, action="customer.erased", target=customer,
        metadata={"request": request.pk, "released_hold_ended": request.erase_after.isoformat(), "deleted": counts},
    )  # fmt: skip
    return request


def release_retention_holds(*, today: dt.date | None = None) -> list[int]:
    """Beat job: finish every deferred erasure whose holds have ended; ids of those finished."""
    today = today or business_today()
    due = ErasureRequest.objects.filter(status=ErasureRequest.Status.DEFERRED, erase_after__lte=today)
    return [release_hold(request=request, today=today).pk for request in due.order_by("erase_after", "pk")]
