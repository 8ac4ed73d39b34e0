"""Every write to leads, one module per job; callers import from here.

- `intake`: taking leads in (one, or many in one transaction) and queueing their extraction;
- `qualification`: reading the inquiry (LLM or rules), qualifying or sending to review;
- `assignment`: routing to an advisor, reassigning, the first contact;
- `correction`: a person corrects what was read;
- `conversion`: how a lead ends (converted into a customer, or rejected);
- `moves`: the row lock, the permission check and the one audited state move they all use.
"""

from apps.leads.fields import CORRECTABLE_FIELDS
from apps.leads.services.assignment import assign_lead, reassign_lead, record_first_contact
from apps.leads.services.conversion import NewCustomerDetails, convert_lead, reject_lead, split_name
from apps.leads.services.correction import correct_fields
from apps.leads.services.intake import (
    MAX_INQUIRY_CHARS,
    MAX_NAME_CHARS,
    BulkResult,
    LeadInput,
    publish_extraction,
    submit_lead,
    submit_leads,
)
from apps.leads.services.qualification import (
    ExtractionDeferred,
    approve_lead,
    claim_for_extraction,
    flag_for_review,
    process_lead,
    qualify_lead,
    read_inquiry,
    review_reasons,
    start_qualification,
    stuck_lead_ids,
    sweep_stuck_leads,
)

__all__ = [
    "CORRECTABLE_FIELDS",
    "MAX_INQUIRY_CHARS",
    "MAX_NAME_CHARS",
    "BulkResult",
    "ExtractionDeferred",
    "LeadInput",
    "NewCustomerDetails",
    "approve_lead",
    "assign_lead",
    "claim_for_extraction",
    "convert_lead",
    "correct_fields",
    "flag_for_review",
    "process_lead",
    "publish_extraction",
    "qualify_lead",
    "read_inquiry",
    "reassign_lead",
    "record_first_contact",
    "reject_lead",
    "review_reasons",
    "split_name",
    "start_qualification",
    "stuck_lead_ids",
    "submit_lead",
    "submit_leads",
    "sweep_stuck_leads",
]
