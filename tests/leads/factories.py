"""Leads built through the real services, in whichever state a test needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.leads.extraction import Extraction
from apps.leads.models import Lead
from apps.leads.services import (
    LeadInput,
    assign_lead,
    claim_for_extraction,
    convert_lead,
    qualify_lead,
    reject_lead,
    submit_lead,
)
from tests.customers.factories import CustomerFactory

S = Lead.State


def confident(**overrides: Any) -> Extraction:
    """An extraction that qualifies on its own."""
    values: dict[str, Any] = {
        "intent": "personal_loan",
        "intent_confidence": 0.95,
        "monthly_income": Decimal("2800.00"),
        "monthly_income_confidence": 0.9,
        "requested_amount": Decimal("12000.00"),
        "requested_amount_confidence": 0.9,
        "currency": "GBP",
        "loan_purpose": "home_improvement",
        "loan_purpose_confidence": 0.9,
        "constraints": (),
        "extracted_by": "llm",
        "model": "test",
    }
    values.update(overrides)
    return Extraction(**values)


def doubtful(**overrides: Any) -> Extraction:
    """An extraction that sends the lead to review (amount missing, low confidence)."""
    return confident(requested_amount=None, requested_amount_confidence=0.3, **overrides)


_counter = [0]


def new_lead(*, branch: Any = None, text: str = "I'd like a loan of £12,000 for a new kitchen.", **kwargs: Any) -> Lead:
    _counter[0] += 1
    data = LeadInput(
        inquiry=text,
        full_name=kwargs.pop("full_name", "Jane Applicant"),
        email=kwargs.pop("email", f"jane{_counter[0]}@mail.example"),
        phone=kwargs.pop("phone", "+44 7700 900123"),
        branch_code=branch.code if branch else "",
        external_ref=kwargs.pop("external_ref", ""),
    )
    return submit_lead(actor=None, source=kwargs.pop("source", Lead.Source.API), data=data)


def lead_in_state(state: str, *, branch: Any, assignee: Any = None, actor: Any = None, **kwargs: Any) -> Lead:
    """A lead moved to `state` through the services (assigned/converted need an assignee)."""
    lead = new_lead(branch=branch, **kwargs)
    if state == S.NEW:
        return lead
    if state == S.REJECTED:
        return reject_lead(actor=actor, lead=lead, reason="Spam")
    claim_for_extraction(lead_id=lead.pk)
    lead.refresh_from_db()
    if state == S.QUALIFYING:
        return lead
    lead = qualify_lead(actor=None, lead=lead, extraction=doubtful() if state == S.NEEDS_REVIEW else confident())
    if state in (S.QUALIFIED, S.NEEDS_REVIEW):
        return lead
    lead = assign_lead(actor=None, lead=lead, assignee=assignee)
    if state == S.ASSIGNED:
        return lead
    assert state == S.CONVERTED
    return convert_lead(actor=actor, lead=lead, customer=CustomerFactory(branch=branch, assigned_to=assignee))
