"""The lead's field lists, declared once: services, admin and API build on them."""

from __future__ import annotations

# What the extraction reads from an inquiry, each scored field beside its confidence.
READ_FIELDS = (
    "intent",
    "intent_confidence",
    "requested_amount",
    "requested_amount_confidence",
    "monthly_income",
    "monthly_income_confidence",
    "currency",
    "loan_purpose",
    "loan_purpose_confidence",
    "constraints",
)
# How the read fields were extracted: by whom (rules or LLM), with which model, when, at what
# cost, and why a person must review them.
EXTRACTION_FIELDS = (
    "extracted_by",
    "extraction_model",
    "extracted_at",
    "llm_prompt_tokens",
    "llm_completion_tokens",
    "llm_cost",
    "review_reasons",
)
# The read fields that carry a confidence (1.0 once a person corrected them).
SCORED_FIELDS = tuple(name.removesuffix("_confidence") for name in READ_FIELDS if name.endswith("_confidence"))
# What a person may correct after the extraction: every read field but the confidences.
CORRECTABLE_FIELDS = tuple(name for name in READ_FIELDS if not name.endswith("_confidence"))
# Where a lead came from and where it stands.
ORIGIN_FIELDS = ("source", "external_ref", "branch", "state", "state_changed_at")
# The masked hints stored beside the encrypted name and contact details.
HINT_FIELDS = ("name_hint", "email_hint", "phone_hint")
# The response-target clock.
CLOCK_FIELDS = ("received_at", "first_contact_due_at", "first_contacted_at")
