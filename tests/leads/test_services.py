"""Intake, qualification rules, corrections, contact, conversion and rejection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.customers.models import Customer
from apps.leads.models import Lead, LeadCorrection
from apps.leads.services import (
    LeadInput,
    NewCustomerDetails,
    claim_for_extraction,
    convert_lead,
    correct_fields,
    process_lead,
    qualify_lead,
    record_first_contact,
    reject_lead,
    submit_lead,
    submit_leads,
)
from apps.products.models import RiskProfile
from tests.customers.factories import CustomerFactory
from tests.leads.factories import confident, lead_in_state, new_lead

S = Lead.State


def test_inquiry_and_contact_details_are_encrypted_at_rest(branch):
    lead = new_lead(branch=branch, text="Secret plan: borrow £9,999", full_name="Zed Quux", email="zed@mail.example")
    with connection.cursor() as cursor:
        cursor.execute("SELECT inquiry, full_name, email, phone FROM leads_lead WHERE id = %s", [lead.pk])
        raw = b"".join(bytes(value) for value in cursor.fetchone() if value is not None)
    for secret in (b"Secret plan", b"Zed Quux", b"zed@mail.example", b"7700"):
        assert secret not in raw
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.inquiry == "Secret plan: borrow £9,999"
    assert stored.email_hint == "z***@mail.example"
    assert stored.name_hint == "Z. Q."


def test_the_audit_event_of_intake_carries_no_contact_details(branch):
    lead = new_lead(branch=branch, email="private.person@mail.example")
    event = AuditEvent.objects.get(action="lead.received", object_id=str(lead.pk))
    assert "private.person" not in str(event.changes) + str(event.metadata)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (LeadInput(inquiry="  ", email="a@mail.example"), "inquiry"),
        (LeadInput(inquiry="x" * 5001, email="a@mail.example"), "inquiry"),
        (LeadInput(inquiry="A loan please"), "email"),
        (LeadInput(inquiry="A loan please", email="not-an-address"), "email"),
        (LeadInput(inquiry="A loan please", phone="call me maybe"), "phone"),
        (LeadInput(inquiry="A loan please", email="a@mail.example", branch_code="NOPE"), "branch"),
    ],
)
def test_bad_intake_is_refused_with_the_field_and_writes_nothing(data, field, db):
    with pytest.raises(DomainError) as refused:
        submit_lead(actor=None, source=Lead.Source.API, data=data)
    assert refused.value.field == field
    assert not Lead.objects.exists()


def test_a_resent_reference_returns_the_first_lead(branch):
    first = new_lead(branch=branch, external_ref="web-123")
    again = new_lead(branch=branch, external_ref="web-123")
    assert again.pk == first.pk
    assert Lead.objects.count() == 1


def test_bulk_intake_reports_every_bad_row_and_writes_nothing(db):
    rows = [
        LeadInput(inquiry="Loan of 5k", email="a@mail.example"),
        LeadInput(inquiry="", email="b@mail.example"),
        LeadInput(inquiry="Card", email="nope"),
    ]
    result = submit_leads(actor=None, source=Lead.Source.IMPORT, rows=rows)
    assert [number for number, _ in result.errors] == [2, 3]
    assert not Lead.objects.exists()


def test_bulk_intake_writes_one_audit_event_per_lead_and_skips_known_references(db):
    rows = [LeadInput(inquiry=f"Loan of {n}k", email=f"p{n}@mail.example", external_ref=f"r{n}") for n in range(5)]
    assert len(submit_leads(actor=None, source=Lead.Source.IMPORT, rows=rows).created) == 5
    again = submit_leads(actor=None, source=Lead.Source.IMPORT, rows=rows[:3])
    assert again.created == [] and again.duplicates == 3
    assert AuditEvent.objects.filter(action="lead.received").count() == 5


def test_first_contact_target_is_set_from_the_setting(branch, settings):
    settings.FINPULSE_LEAD_FIRST_CONTACT_HOURS = 4
    lead = new_lead(branch=branch)
    assert (lead.first_contact_due_at - lead.received_at).total_seconds() == 4 * 3600


def _qualifying(branch):  # type: ignore[no-untyped-def]
    lead = new_lead(branch=branch)
    return claim_for_extraction(lead_id=lead.pk)


def test_a_confident_complete_extraction_qualifies(branch):
    lead = qualify_lead(actor=None, lead=_qualifying(branch), extraction=confident())
    assert lead.state == S.QUALIFIED
    assert lead.review_reasons == []
    assert lead.requested_amount == Decimal("12000.00")


@pytest.mark.parametrize(
    ("extraction", "why"),
    [
        (confident(requested_amount=None), "No requested amount"),
        (confident(intent_confidence=0.5), "Low confidence"),
        (confident(constraints=("self_employed",)), "Needs judgement: Self-employed"),
        (confident(intent="other"), "intent 'other'"),
    ],
)
def test_doubtful_extractions_go_to_human_review_with_the_reason(extraction, why, branch):
    lead = qualify_lead(actor=None, lead=_qualifying(branch), extraction=extraction)
    assert lead.state == S.NEEDS_REVIEW
    assert any(why in reason for reason in lead.review_reasons)


def test_the_confidence_threshold_is_configurable(branch, settings):
    settings.FINPULSE_LEAD_CONFIDENCE_THRESHOLD = 0.96
    lead = qualify_lead(actor=None, lead=_qualifying(branch), extraction=confident())
    assert lead.state == S.NEEDS_REVIEW


def test_a_constraint_not_needing_judgement_does_not_hold_a_lead_back(branch):
    lead = qualify_lead(actor=None, lead=_qualifying(branch), extraction=confident(constraints=("first_time_buyer",)))
    assert lead.state == S.QUALIFIED


def test_without_an_llm_the_rule_engine_reads_the_lead_and_says_so(branch):
    lead = new_lead(branch=branch, text="I need a personal loan of £4,000 for a kitchen, I earn £2,500 a month.")
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.extracted_by == "rules"
    assert lead.requested_amount == Decimal("4000.00")
    assert max(lead.intent_confidence, lead.requested_amount_confidence) <= 0.85
    event = AuditEvent.objects.filter(
        object_id=str(lead.pk), action__in=["lead.qualified", "lead.sent_to_review"]
    ).get()
    assert event.metadata["llm_unavailable"] == "not_configured"


def test_processing_a_lead_twice_qualifies_it_once(branch):
    lead = new_lead(branch=branch)
    process_lead(lead_id=lead.pk)
    assert process_lead(lead_id=lead.pk) is None
    assert lead.transitions.filter(from_state=S.QUALIFYING).count() == 1


def test_a_second_worker_does_not_take_a_leased_lead(branch):
    lead = new_lead(branch=branch)
    assert claim_for_extraction(lead_id=lead.pk) is not None
    assert claim_for_extraction(lead_id=lead.pk) is None


def test_corrections_are_recorded_field_by_field(branch, manager):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    correct_fields(
        actor=manager,
        lead=lead,
        changes={"requested_amount": "15000", "intent": "personal_loan", "constraints": ["existing_debt"]},
        note="Called the applicant",
    )
    lead.refresh_from_db()
    assert lead.requested_amount == Decimal("15000.00")
    assert lead.requested_amount_confidence == 1.0
    rows = {c.field: (c.old_value, c.new_value) for c in LeadCorrection.objects.filter(lead=lead)}
    assert rows == {"requested_amount": ("12000.00", "15000.00"), "constraints": ("", "existing_debt")}
    event = AuditEvent.objects.get(action="lead.corrected", object_id=str(lead.pk))
    assert event.changes["requested_amount"] == ["12000.00", "15000.00"]


def test_a_bad_correction_is_refused_whole(branch, manager):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    with pytest.raises(DomainError):
        correct_fields(actor=manager, lead=lead, changes={"requested_amount": "100", "intent": "lottery"})
    assert not LeadCorrection.objects.exists()


def test_compliance_reads_leads_but_cannot_change_them(branch, manager, compliance_officer):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    with pytest.raises(PermissionDenied):
        reject_lead(actor=compliance_officer, lead=lead, reason="No")


def test_first_contact_is_recorded_once(branch, manager):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    record_first_contact(actor=manager, lead=lead)
    with pytest.raises(Conflict):
        record_first_contact(actor=manager, lead=lead)


def test_converting_creates_a_prospect_for_the_advisor(branch, manager):
    lead = lead_in_state(
        S.ASSIGNED, branch=branch, assignee=manager, full_name="Ada Lovelace", email="ada@mail.example"
    )
    details = NewCustomerDetails(
        first_name="Ada", last_name="Lovelace", risk_profile=RiskProfile.CAUTIOUS, date_of_birth=dt.date(1985, 12, 10)
    )
    lead = convert_lead(actor=manager, lead=lead, details=details)
    customer = Customer.objects.get(pk=lead.customer_id)
    assert (customer.first_name, customer.last_name, customer.status) == ("Ada", "Lovelace", "prospect")
    assert customer.risk_profile == RiskProfile.CAUTIOUS
    assert customer.date_of_birth == dt.date(1985, 12, 10)
    assert customer.email == "ada@mail.example"
    assert customer.primary_manager_id == manager.pk
    assert customer.annual_income == Decimal("33600.00")


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (None, "customer"),
        (NewCustomerDetails(first_name="Ada", last_name="Lovelace", risk_profile=None), "risk_profile"),
        (NewCustomerDetails(first_name="Ada", last_name=" ", risk_profile=RiskProfile.GROWTH), "last_name"),
    ],
)
def test_converting_never_invents_a_new_customers_details(branch, manager, details, field):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager, full_name="Ada Lovelace", email="a@m.example")

    with pytest.raises(DomainError) as refused:
        convert_lead(actor=manager, lead=lead, details=details)

    assert refused.value.field == field
    assert not Customer.objects.exists()
    lead.refresh_from_db()
    assert lead.state == S.ASSIGNED


def test_converting_links_a_customer_the_advisor_knows_by_email(branch, manager):
    known = CustomerFactory(assigned_to=manager, email="known@mail.example")
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager, email="Known@Mail.example")
    lead = convert_lead(actor=manager, lead=lead)
    assert lead.customer_id == known.pk
    assert Customer.objects.count() == 1


def test_converting_never_links_a_customer_the_advisor_cannot_see(branch, manager, other_manager):
    theirs = CustomerFactory(assigned_to=other_manager, email="theirs@mail.example")
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager, email="theirs@mail.example")
    details = NewCustomerDetails(first_name="T", last_name="Heirs", risk_profile=RiskProfile.BALANCED)
    lead = convert_lead(actor=manager, lead=lead, details=details)
    assert lead.customer_id != theirs.pk


def test_rejection_needs_a_reason(branch, manager):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    with pytest.raises(DomainError):
        reject_lead(actor=manager, lead=lead, reason=" ")
