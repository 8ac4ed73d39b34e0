"""Reading a lead's inquiry and qualifying it, or sending it to a person for review.

Extraction never holds a database lock while the LLM is called: the lead is claimed with a
lease (so a duplicated message does not call the LLM twice), read outside any transaction,
then qualified under the row lock, once (a second result for the same lead is ignored). While
the LLM is rate-limited or down, a lead waits in "qualifying" and is retried
(ExtractionDeferred); after FINPULSE_LEAD_LLM_MAX_ATTEMPTS the rule engine reads it, so no lead
is dropped and none waits for ever.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import llm
from apps.core.errors import Conflict, DomainError
from apps.core.llm_budget import BUDGET_EXHAUSTED
from apps.leads.extraction import Extraction, extract
from apps.leads.fields import EXTRACTION_FIELDS, READ_FIELDS
from apps.leads.llm_extraction import extract_with_llm
from apps.leads.models import Constraint, Intent, Lead
from apps.leads.selectors import llm_spent_today
from apps.leads.services.assignment import assign_lead
from apps.leads.services.intake import publish_extraction
from apps.leads.services.moves import S, ensure_can_act, locked_lead, move
from apps.leads.state import check_transition
from apps.notifications.llm_budget import budget_exhausted

if TYPE_CHECKING:
    from apps.identity.models import User

logger = logging.getLogger(__name__)


# The LLM failures worth waiting for; anything else (not configured, a rejected request, a
# malformed answer) goes straight to the rule engine.
_TRANSIENT = (llm.RATE_LIMITED, llm.CIRCUIT_OPEN, llm.FAILED)


class ExtractionDeferred(Exception):
    """The LLM cannot answer now; the lead stays in qualifying and is retried after `retry_in` seconds."""

    def __init__(self, lead_id: int, retry_in: int, reason: str) -> None:
        super().__init__(f"Lead {lead_id}: extraction deferred {retry_in}s ({reason}).")
        self.lead_id, self.retry_in, self.reason = lead_id, retry_in, reason


@transaction.atomic
def start_qualification(*, actor: User | None, lead: Lead, reason: str = "") -> Lead:
    """new → qualifying (the worker), or needs_review → qualifying (a reviewer asks for a new reading)."""
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
    lead.extraction_lease_until = None
    lead.extraction_attempts = 0
    lead = move(
        lead=lead,
        to_state=S.QUALIFYING,
        actor=actor,
        action="lead.qualification_started",
        reason=reason,
        fields=["extraction_lease_until", "extraction_attempts"],
    )
    if actor is not None:
        transaction.on_commit(lambda: publish_extraction([lead.pk]))
    return lead


def _lease_seconds() -> int:
    return max(int(settings.FINPULSE_LEAD_EXTRACTION_LEASE_SECONDS), 30)


@transaction.atomic
def claim_for_extraction(*, lead_id: int) -> Lead | None:
    """Take the lead for one extraction attempt, or None when there is nothing to do.

    A new lead is moved to qualifying; a lead in qualifying is taken only when no other
    worker holds its lease (or the lease ran out: that worker died). Anything else is done.
    """
    try:
        # The inquiry and the name are read (the name is redacted from what the LLM sees).
        lead = Lead.objects.select_for_update().defer("email", "phone").get(pk=lead_id)
    except Lead.DoesNotExist:
        return None
    now = timezone.now()
    is_new = lead.state == S.NEW
    if not is_new and (
        lead.state != S.QUALIFYING or (lead.extraction_lease_until and lead.extraction_lease_until > now)
    ):
        return None
    lead.extraction_lease_until = now + dt.timedelta(seconds=_lease_seconds())
    lead.extraction_attempts += 1
    fields = ["extraction_lease_until", "extraction_attempts"]
    if is_new:
        return move(lead=lead, to_state=S.QUALIFYING, actor=None, action="lead.qualification_started", fields=fields)
    lead.save(update_fields=[*fields, "updated_at"])
    return lead


def _retry_delay(attempts: int) -> int:
    base = max(int(settings.FINPULSE_LEAD_RETRY_BASE_SECONDS), 1)
    return min(base * 2 ** max(attempts - 1, 0), 300)  # well under RabbitMQ's consumer timeout


def _defer(lead: Lead, reason: str) -> ExtractionDeferred:
    retry_in = _retry_delay(lead.extraction_attempts)
    # The lease becomes "not before": neither the sweeper nor a duplicate message takes it earlier.
    Lead.objects.filter(pk=lead.pk, state=S.QUALIFYING).update(
        extraction_lease_until=timezone.now() + dt.timedelta(seconds=retry_in)
    )
    return ExtractionDeferred(lead.pk, retry_in, reason)


def read_inquiry(*, lead: Lead) -> tuple[Extraction, str]:
    """Read the inquiry: the LLM when configured, the rule engine otherwise or after it failed.

    Returns (extraction, why the rules answered or ""); raises ExtractionDeferred while a
    transient LLM failure is worth waiting for. Runs outside any transaction (no lock is held
    during the HTTP call).
    """
    names = [lead.full_name] if lead.full_name else []
    usage = llm.LlmUsage()
    if not llm.llm_configured():
        fallback = llm.NOT_CONFIGURED
    elif budget_exhausted(use="leads", spent_today=llm_spent_today()):
        fallback = BUDGET_EXHAUSTED  # the day's budget is spent: the rules serve until midnight
    else:
        try:
            return extract_with_llm(lead.inquiry, names=names), ""
        except llm.LlmError as error:
            if error.reason in _TRANSIENT and lead.extraction_attempts < settings.FINPULSE_LEAD_LLM_MAX_ATTEMPTS:
                raise _defer(lead, error.reason) from error
            fallback, usage = error.reason, error.usage
    extraction = extract(lead.inquiry, names=names)
    if usage.total_tokens:  # an unusable answer still cost its tokens
        extraction = replace(
            extraction,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=usage.cost,
        )
    return extraction, fallback


def review_reasons(extraction: Extraction) -> list[str]:
    """Why a person should look at this lead (empty: it qualifies on its own)."""
    reasons: list[str] = []
    if extraction.requested_amount is None:
        reasons.append("No requested amount in the inquiry.")
    if extraction.intent == Intent.OTHER:
        reasons.append("Not a request for a retail product (intent 'other').")
    threshold = float(settings.FINPULSE_LEAD_CONFIDENCE_THRESHOLD)
    low = [
        f"{name.replace('_', ' ')} ({value:.2f})"
        for name, value in extraction.confidences().items()
        if value < threshold
    ]
    if low:
        reasons.append(f"Low confidence (below {threshold:.2f}): {', '.join(low)}.")
    judged = [c for c in extraction.constraints if c in set(settings.FINPULSE_LEAD_JUDGEMENT_CONSTRAINTS)]
    if judged:
        labels = dict(Constraint.choices)
        reasons.append(f"Needs judgement: {', '.join(labels.get(c, c) for c in judged)}.")
    return reasons


@transaction.atomic
def qualify_lead(*, actor: User | None, lead: Lead, extraction: Extraction, fallback_reason: str = "") -> Lead:
    """qualifying → qualified, or → needs_review when review_reasons finds anything.

    Applied once: a lead no longer in qualifying (another worker finished it) is left alone and
    a Conflict says so, so a duplicated extraction cannot qualify a lead twice.
    """
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
    if lead.state != S.QUALIFYING:
        raise Conflict(f"Lead #{lead.pk} is no longer being qualified (it is '{lead.get_state_display()}').")
    reasons = review_reasons(extraction)
    lead.intent = extraction.intent
    lead.intent_confidence = extraction.intent_confidence
    lead.monthly_income = extraction.monthly_income
    lead.monthly_income_confidence = extraction.monthly_income_confidence
    lead.requested_amount = extraction.requested_amount
    lead.requested_amount_confidence = extraction.requested_amount_confidence
    lead.currency = extraction.currency
    lead.loan_purpose = extraction.loan_purpose or ""
    lead.loan_purpose_confidence = extraction.loan_purpose_confidence
    lead.constraints = list(extraction.constraints)
    lead.extracted_by = extraction.extracted_by
    lead.extraction_model = extraction.model
    lead.extracted_at = timezone.now()
    lead.llm_prompt_tokens = extraction.prompt_tokens
    lead.llm_completion_tokens = extraction.completion_tokens
    lead.llm_cost = extraction.cost
    lead.review_reasons = reasons
    lead.extraction_lease_until = None
    to_state = S.NEEDS_REVIEW if reasons else S.QUALIFIED
    return move(
        lead=lead,
        to_state=to_state,
        actor=actor,
        action="lead.qualified" if to_state == S.QUALIFIED else "lead.sent_to_review",
        reason=" ".join(reasons),
        fields=[
            *READ_FIELDS,
            *EXTRACTION_FIELDS,
            "extraction_lease_until",
        ],
        metadata={
            "extracted_by": extraction.extracted_by,
            "model": extraction.model,
            "tokens": extraction.prompt_tokens + extraction.completion_tokens,
            "cost": str(extraction.cost),
            **({"llm_unavailable": fallback_reason} if fallback_reason else {}),
            "confidence": extraction.confidences(),
        },
    )


def process_lead(*, lead_id: int) -> Lead | None:
    """The worker's whole job for one lead: claim, read, qualify, route. Safe to run twice.

    Returns the lead, or None when there was nothing to do. Raises ExtractionDeferred when the
    LLM asked us to wait (the caller schedules the retry; the sweeper is the safety net).
    """
    lead = claim_for_extraction(lead_id=lead_id)
    if lead is None:
        return None
    extraction, fallback = read_inquiry(lead=lead)
    try:
        lead = qualify_lead(actor=None, lead=lead, extraction=extraction, fallback_reason=fallback)
    except Conflict:
        return None  # someone else finished it meanwhile (a lease that ran out): theirs stands
    if lead.state == S.QUALIFIED:
        try:
            lead = assign_lead(actor=None, lead=lead)
        except DomainError as error:
            # Nobody to route to: it waits, qualified and unassigned, in the branch's inbox.
            logger.info("Lead %s stays unassigned: %s", lead.pk, error.message)
    return lead


def stuck_lead_ids(*, limit: int = 1000, new_grace_seconds: int = 120) -> list[int]:
    """Leads the sweeper re-queues: new ones whose message got lost, qualifying ones whose worker died."""
    now = timezone.now()
    due = Q(state=S.NEW, state_changed_at__lte=now - dt.timedelta(seconds=new_grace_seconds)) | Q(
        Q(extraction_lease_until__isnull=True) | Q(extraction_lease_until__lte=now), state=S.QUALIFYING
    )
    return list(Lead.objects.filter(due).order_by("state_changed_at", "pk").values_list("pk", flat=True)[:limit])


def sweep_stuck_leads(*, limit: int = 1000) -> int:
    """Re-queue what is stuck (beat runs this every minute). Duplicates are harmless: the lease decides."""
    ids = stuck_lead_ids(limit=limit)
    if ids:
        logger.info("Re-queueing %d lead(s) left in new/qualifying.", len(ids))
        publish_extraction(ids)
    return len(ids)


@transaction.atomic
def approve_lead(*, actor: User | None, lead: Lead, reason: str = "") -> Lead:
    """needs_review → qualified: a person has checked (and perhaps corrected) what was read."""
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
    if lead.state != S.NEEDS_REVIEW:
        check_transition(lead.state, S.QUALIFIED)
        raise Conflict("Only a lead in review can be approved; this one was qualified by its extraction.")
    return move(lead=lead, to_state=S.QUALIFIED, actor=actor, action="lead.approved", reason=reason)


@transaction.atomic
def flag_for_review(*, actor: User | None, lead: Lead, reason: str) -> Lead:
    """qualified → needs_review: a manager wants a second look before it is routed."""
    ensure_can_act(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the lead needs a review.", field="reason")
    lead = locked_lead(lead)
    if lead.state == S.QUALIFYING:
        raise Conflict("The lead is still being read; its extraction decides whether it needs a review.")
    lead.review_reasons = [*lead.review_reasons, reason[:500]]
    return move(
        lead=lead,
        to_state=S.NEEDS_REVIEW,
        actor=actor,
        action="lead.flagged_for_review",
        reason=reason,
        fields=["review_reasons"],
    )
