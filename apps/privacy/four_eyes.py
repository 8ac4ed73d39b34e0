"""Erasure needs four eyes: a compliance officer proposes it, a second one approves it.

Erasure destroys personal data for good, so one person's word is not enough (issue #19 item 4;
DORA RTS Art. 21 segregation of duties). The erasure is made by `request_erasure` (the one home
of the erasure rules) acting as the maker, only when a second, different compliance officer
approves; both steps are audited by apps.approvals. No dry run: an erasure that would be
refused (an active product) is recorded as refused at approval, with its reason, not an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apps.approvals.registry import FourEyesAction, register
from apps.approvals.services import propose_change
from apps.core.errors import DomainError
from apps.customers.models import Customer
from apps.privacy.services import clean_reference, ensure_data_subject_officer, request_erasure

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest
    from apps.identity.models import User

ERASURE = "customer.erasure"


def _apply_erasure(change: ChangeRequest) -> Any:
    data = change.payload
    ended = data.get("relationship_ended_on")
    return request_erasure(
        actor=change.maker,
        customer=Customer.objects.get(pk=data["customer_id"]),
        reference=data["reference"],
        relationship_ended_on=dt.date.fromisoformat(ended) if ended else None,
    )


def _describe_erasure(data: Mapping[str, Any]) -> str:
    ended = data.get("relationship_ended_on") or "today"
    return f"Erase customer #{data['customer_id']} ({data['reference']}; relationship ended {ended})"


def _may_approve_erasure(user: User, change: ChangeRequest) -> bool:
    return bool(user.is_active and user.is_compliance_officer)


register(
    FourEyesAction(
        name=ERASURE,
        label="Erasure of a customer's personal data",
        apply=_apply_erasure,
        describe=_describe_erasure,
        may_approve=_may_approve_erasure,
        dry_run=False,
    )
)


def propose_erasure(
    *, actor: User, customer: Customer, reference: str, relationship_ended_on: dt.date | None = None
) -> ChangeRequest:
    """Propose erasing a customer; a second compliance officer's approval carries it out."""
    ensure_data_subject_officer(actor)
    if customer.erased_at:
        raise DomainError("This customer's personal data has already been erased.")
    payload = {
        "customer_id": customer.pk,
        "reference": clean_reference(reference),
        "relationship_ended_on": relationship_ended_on,
    }
    return propose_change(
        maker=actor,
        action=ERASURE,
        payload=payload,
        reason=payload["reference"],
        target_type="customers.customer",
        target_id=customer.pk,
        customer_id=customer.pk,
    )
