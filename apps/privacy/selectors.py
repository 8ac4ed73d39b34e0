"""Reads for compliance's data-subject pages (who: compliance officers only; others get 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from apps.approvals.models import ChangeRequest
from apps.core.errors import NotFound
from apps.customers.models import Customer
from apps.customers.visibility import customer_for_user
from apps.privacy.models import ErasureRequest
from apps.privacy.services import may_handle_data_subject_requests

if TYPE_CHECKING:
    from apps.identity.models import User


def data_subject(*, user: User, customer_id: Any) -> Customer:  # Any: an id from the URL
    """A customer for a data-subject request: compliance sees every customer, restricted too."""
    if not may_handle_data_subject_requests(user):
        raise NotFound("No such page.")
    return customer_for_user(user=user, customer_id=customer_id)


def erasure_requests(*, user: User) -> QuerySet[ErasureRequest]:
    """Every erasure request, newest first (compliance only)."""
    if not may_handle_data_subject_requests(user):
        raise NotFound("No such page.")
    return ErasureRequest.objects.select_related("customer", "requested_by")


def pending_erasures(*, customer: Customer) -> QuerySet[ChangeRequest]:
    """Erasures of this customer proposed and waiting for a second officer (shown where they apply)."""
    return ChangeRequest.objects.filter(
        customer_id=customer.pk, action="customer.erasure", status=ChangeRequest.Status.PENDING
    ).select_related("maker")
