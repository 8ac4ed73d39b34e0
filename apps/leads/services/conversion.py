"""How a lead ends: converted into a customer (linked or created as a prospect), or rejected."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.db import transaction

from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.leads.models import Lead
from apps.leads.selectors import ENCRYPTED
from apps.leads.services.moves import S, ensure_can_act, locked_lead, move
from apps.leads.state import check_transition
from apps.products.models import RiskProfile

if TYPE_CHECKING:
    from apps.identity.models import User


def split_name(full_name: str) -> tuple[str, str]:
    """A suggestion for the conversion form (the manager confirms it), never a silent guess."""
    parts = full_name.split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


@dataclass(frozen=True)
class NewCustomerDetails:
    """What the manager confirmed about a new customer: names and the risk assessment's result."""

    first_name: str
    last_name: str
    risk_profile: int | None
    date_of_birth: dt.date | None = None


def _checked_details(details: NewCustomerDetails | None) -> NewCustomerDetails:
    if details is None:
        raise DomainError(
            "Give the new customer's details and risk assessment, or link an existing customer.", field="customer"
        )
    if not details.last_name.strip():
        raise DomainError("Give the customer's last name (or company name).", field="last_name")
    if details.risk_profile not in RiskProfile.values:
        # No default: a risk profile the customer was never assessed for would drive advice.
        raise DomainError("Record the risk assessment's result.", field="risk_profile")
    return details


@transaction.atomic
def convert_lead(
    *, actor: User | None, lead: Lead, customer: Any = None, details: NewCustomerDetails | None = None
) -> Lead:
    """assigned → converted: link the lead to a customer, creating a prospect when there is none.

    The customer is, in order: the one given (which the actor must be able to see), one the
    actor can see with the lead's e-mail or phone (blind index), or a new prospect created
    through apps.customers.services.create_customer in the lead's branch and assigned to the
    lead's advisor (the lead was routed to them, so the customer follows). A new prospect takes
    the names and risk profile the manager confirmed (`details`); nothing is invented.
    """
    from apps.customers.models import Customer
    from apps.customers.services import assign_customers, create_customer
    from apps.customers.visibility import visible_customers

    if actor is None:
        raise PermissionDenied("A conversion is made by a person.")
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
    check_transition(lead.state, S.CONVERTED)
    how = "linked"
    if customer is not None:
        if not visible_customers(user=actor).filter(pk=customer.pk).exists():
            raise NotFound("No such customer.")
    else:
        known = (
            visible_customers(user=actor).filter(
                **({"email_index": lead.email_index} if lead.email_index else {"phone_index": lead.phone_index})
            )
            if (lead.email_index or lead.phone_index)
            else Customer.objects.none()
        )
        customer = known.order_by("pk").first()
    if customer is None:
        confirmed = _checked_details(details)
        contact = Lead.objects.only(*ENCRYPTED).get(pk=lead.pk)
        if lead.branch_id is None:
            raise DomainError("The lead has no branch: a new customer needs one.", field="customer")
        customer = create_customer(
            actor=actor,
            external_id=f"LEAD-{lead.pk}",
            branch=lead.branch,
            first_name=confirmed.first_name.strip(),
            last_name=confirmed.last_name.strip(),
            date_of_birth=confirmed.date_of_birth,
            risk_profile=confirmed.risk_profile,
            email=contact.email,
            phone=contact.phone,
            status=Customer.Status.PROSPECT,
            annual_income=(lead.monthly_income * 12) if lead.monthly_income is not None else None,
            income_currency=lead.currency or "GBP",
        )
        # Conversion is the lead's advisor's own act: the new customer is theirs, recorded by the
        # system on the lead's authority (a relationship manager may not assign customers).
        # Only an assigned lead converts (the state machine), so it has an advisor.
        advisor = cast("User", lead.assignee)
        assign_customers(actor=None, customer_ids=[customer.pk], manager=advisor, reason=f"Converted lead #{lead.pk}")
        how = "created"
    lead.customer = customer
    return move(
        lead=lead,
        to_state=S.CONVERTED,
        actor=actor,
        action="lead.converted",
        fields=["customer"],
        changes={"customer": [None, customer.pk]},
        metadata={"how": how},
    )


@transaction.atomic
def reject_lead(*, actor: User | None, lead: Lead, reason: str) -> Lead:
    """→ rejected (spam, off-topic, not eligible, not reachable), with the reason kept."""
    if actor is None:
        raise PermissionDenied("A rejection is made by a person.")
    ensure_can_act(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the lead is rejected.", field="reason")
    lead = locked_lead(lead)
    lead.rejection_reason = reason[:500]
    return move(
        lead=lead, to_state=S.REJECTED, actor=actor, action="lead.rejected", reason=reason, fields=["rejection_reason"]
    )
