"""How a lead ends: converted into a customer (linked or created as a prospect), or rejected."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.leads.models import Lead
from apps.leads.selectors import ENCRYPTED
from apps.leads.services.moves import S, ensure_can_act, locked_lead, move
from apps.leads.state import check_transition


def _split_name(full_name: str) -> tuple[str, str]:
    parts = full_name.split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


@transaction.atomic
def convert_lead(*, actor: Any, lead: Lead, customer: Any = None) -> Lead:
    """assigned → converted: link the lead to a customer, creating a prospect when there is none.

    The customer is, in order: the one given (which the actor must be able to see), one the
    actor can see with the lead's e-mail or phone (blind index), or a new prospect created
    through apps.customers.services.create_customer in the lead's branch and assigned to the
    lead's advisor (the lead was routed to them, so the customer follows).
    """
    from apps.customers.models import Customer
    from apps.customers.selectors import visible_customers
    from apps.customers.services import assign_customers, create_customer

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
        details = Lead.objects.only(*ENCRYPTED).get(pk=lead.pk)
        first_name, last_name = _split_name(details.full_name)
        if not last_name:
            raise DomainError("The lead has no name: correct it or link an existing customer.", field="customer")
        if lead.branch_id is None:
            raise DomainError("The lead has no branch: a new customer needs one.", field="customer")
        customer = create_customer(
            actor=actor,
            external_id=f"LEAD-{lead.pk}",
            branch=lead.branch,
            first_name=first_name,
            last_name=last_name,
            email=details.email,
            phone=details.phone,
            status=Customer.Status.PROSPECT,
            annual_income=(lead.monthly_income * 12) if lead.monthly_income is not None else None,
            income_currency=lead.currency or "GBP",
        )
        # Conversion is the lead's advisor's own act: the new customer is theirs, recorded by the
        # system on the lead's authority (a relationship manager may not assign customers).
        assign_customers(
            actor=None, customer_ids=[customer.pk], manager=lead.assignee, reason=f"Converted lead #{lead.pk}"
        )
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
def reject_lead(*, actor: Any, lead: Lead, reason: str) -> Lead:
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
