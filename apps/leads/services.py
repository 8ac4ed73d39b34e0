"""Every write to leads: intake, the state machine's moves, routing, corrections, conversion.

Rules enforced here:
- every move of the state machine goes through `_move`, which checks the transition table
  (apps.leads.state) on the row locked with select_for_update, writes one LeadTransition and
  one audit event, and stamps the time, so the time spent in each state is known; an illegal
  move raises Conflict and writes nothing;
- contact details and the inquiry are encrypted; audit events and logs carry the lead's id,
  its source and masked hints, never the values;
- extraction never holds a database lock while the LLM is called: the lead is claimed with a
  lease (so a duplicated message does not call the LLM twice), read outside any transaction,
  then qualified under the row lock, once (a second result for the same lead is ignored);
- while the LLM is rate-limited or down, a lead waits in "qualifying" and is retried
  (ExtractionDeferred); after FINPULSE_LEAD_LLM_MAX_ATTEMPTS the rule engine reads it, so no
  lead is dropped and none waits for ever;
- compliance officers read leads and change nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.core import llm
from apps.core.audit import AuditEntry, record_audit_event, record_audit_events
from apps.core.blind_index import blind_index
from apps.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from apps.core.masking import mask_email, mask_phone
from apps.identity.models import Branch
from apps.leads import routing
from apps.leads.extraction import Extraction, extract
from apps.leads.llm_extraction import extract_with_llm
from apps.leads.models import Constraint, Intent, Lead, LeadCorrection, LeadTransition, LoanPurpose
from apps.leads.selectors import ENCRYPTED, visible_leads
from apps.leads.state import check_transition
from apps.notifications.selectors import chosen_channels
from apps.notifications.services import build_user_notifications, enqueue_notifications

logger = logging.getLogger(__name__)

S = Lead.State
MAX_INQUIRY_CHARS = 5000
MAX_NAME_CHARS = 160
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]{6,32}$")
# The LLM failures worth waiting for; anything else (not configured, a rejected request, a
# malformed answer) goes straight to the rule engine.
_TRANSIENT = (llm.RATE_LIMITED, llm.CIRCUIT_OPEN, llm.FAILED)
CORRECTABLE_FIELDS = ("intent", "monthly_income", "requested_amount", "currency", "loan_purpose", "constraints")


class ExtractionDeferred(Exception):
    """The LLM cannot answer now; the lead stays in qualifying and is retried after `retry_in` seconds."""

    def __init__(self, lead_id: int, retry_in: int, reason: str) -> None:
        super().__init__(f"Lead {lead_id}: extraction deferred {retry_in}s ({reason}).")
        self.lead_id, self.retry_in, self.reason = lead_id, retry_in, reason


@dataclass(frozen=True)
class LeadInput:
    """One lead to take in (the API, the form and batch files all build these)."""

    inquiry: str
    full_name: str = ""
    email: str = ""
    phone: str = ""
    branch_code: str = ""
    external_ref: str = ""


# --- helpers --------------------------------------------------------------------------------


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _ensure_can_act(actor: Any, lead: Lead) -> None:
    """The system (None) may act; a person must be allowed to write and able to see the lead."""
    if actor is None:
        return
    if not actor.can_edit_customers or (actor.is_compliance_officer and not actor.is_administrator):
        raise PermissionDenied("Your role may read leads but not change them.")
    if not visible_leads(user=actor).filter(pk=lead.pk).exists():
        raise NotFound("No such lead.")


def _locked(lead: Lead | int) -> Lead:
    pk = lead.pk if isinstance(lead, Lead) else lead
    try:
        return Lead.objects.select_for_update().defer(*ENCRYPTED).get(pk=pk)
    except Lead.DoesNotExist:
        raise NotFound("No such lead.") from None


def _move(
    *,
    lead: Lead,
    to_state: str,
    actor: Any,
    action: str,
    reason: str = "",
    fields: Sequence[str] = (),
    changes: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Lead:
    """The one place the state changes: check, stamp, save, LeadTransition, audit event."""
    from_state = lead.state
    check_transition(from_state, to_state)
    now = timezone.now()
    lead.state, lead.state_changed_at = to_state, now
    lead.save(update_fields=["state", "state_changed_at", "updated_at", *fields])
    actor = _actor_or_none(actor)
    LeadTransition.objects.create(
        lead=lead, from_state=from_state, to_state=to_state, at=now, actor=actor, reason=reason[:500]
    )
    record_audit_event(
        actor=actor,
        action=action,
        target=lead,
        changes={"state": [from_state, to_state], **(changes or {})},
        metadata={**({"reason": reason[:500]} if reason else {}), **(metadata or {})},
    )
    return lead


# --- intake ---------------------------------------------------------------------------------


def _clean_input(data: LeadInput, branches: Mapping[str, Branch]) -> dict[str, Any]:
    inquiry = (data.inquiry or "").strip()
    if not inquiry:
        raise DomainError("Tell us what you would like to ask.", field="inquiry")
    if len(inquiry) > MAX_INQUIRY_CHARS:
        raise DomainError(f"Keep the message under {MAX_INQUIRY_CHARS} characters.", field="inquiry")
    full_name = " ".join((data.full_name or "").split())
    if len(full_name) > MAX_NAME_CHARS:
        raise DomainError(f"Keep the name under {MAX_NAME_CHARS} characters.", field="full_name")
    email = (data.email or "").strip()
    phone = (data.phone or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("Enter a valid e-mail address.", field="email") from None
    if phone and not _PHONE_CHARS.match(phone):
        raise DomainError("Enter a phone number of digits, spaces and an optional +.", field="phone")
    if not (email or phone):
        raise DomainError("Give an e-mail address or a phone number so that we can reply.", field="email")
    code = (data.branch_code or settings.FINPULSE_LEAD_DEFAULT_BRANCH or "").strip()
    branch = branches.get(code) if code else None
    if code and branch is None:
        raise DomainError(f"Unknown branch '{code}'.", field="branch")
    external_ref = (data.external_ref or "").strip()
    if len(external_ref) > 100:
        raise DomainError("The reference is longer than 100 characters.", field="external_ref")
    return {
        "inquiry": inquiry,
        "full_name": full_name,
        "email": email,
        "phone": phone,
        "branch": branch,
        "external_ref": external_ref,
    }


def _branches_for(items: Iterable[LeadInput]) -> dict[str, Branch]:
    codes = {(item.branch_code or "").strip() for item in items} | {settings.FINPULSE_LEAD_DEFAULT_BRANCH}
    codes.discard("")
    return {branch.code: branch for branch in Branch.objects.filter(code__in=codes, is_active=True)}


def _new_lead(*, source: str, cleaned: Mapping[str, Any], received_at: dt.datetime) -> Lead:
    name = cleaned["full_name"]
    due = received_at + dt.timedelta(hours=settings.FINPULSE_LEAD_FIRST_CONTACT_HOURS)
    return Lead(
        source=source,
        inquiry=cleaned["inquiry"],
        full_name=name,
        name_hint=" ".join(f"{part[0]}." for part in name.split()[:3])[:16],
        email=cleaned["email"],
        email_index=blind_index("email", cleaned["email"]),
        email_hint=mask_email(cleaned["email"]),
        phone=cleaned["phone"],
        phone_index=blind_index("phone", cleaned["phone"]),
        phone_hint=mask_phone(cleaned["phone"]),
        branch=cleaned["branch"],
        external_ref=cleaned["external_ref"],
        state=S.NEW,
        state_changed_at=received_at,
        received_at=received_at,
        first_contact_due_at=due,
    )


def _audit_entry(actor: Any, lead: Lead) -> AuditEntry:
    return AuditEntry(
        action="lead.received",
        actor=_actor_or_none(actor),
        target=lead,
        metadata={"source": lead.source, "branch": lead.branch_id, "external_ref": lead.external_ref},
    )


@transaction.atomic
def submit_lead(*, actor: Any, source: str, data: LeadInput, received_at: dt.datetime | None = None) -> Lead:
    """Take one lead in; a lead resent with the same source reference is returned, not doubled.

    Extraction is queued after commit (a lost message is picked up by the sweeper).
    """
    if source not in Lead.Source.values:
        raise DomainError(f"Unknown lead source '{source}'.")
    cleaned = _clean_input(data, _branches_for([data]))
    if cleaned["external_ref"]:
        existing = Lead.objects.filter(source=source, external_ref=cleaned["external_ref"]).defer(*ENCRYPTED).first()
        if existing is not None:
            return existing
    lead = _new_lead(source=source, cleaned=cleaned, received_at=received_at or timezone.now())
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        # The same reference arrived concurrently: the other one won.
        existing = Lead.objects.filter(source=source, external_ref=cleaned["external_ref"]).defer(*ENCRYPTED).first()
        if existing is None:
            raise
        return existing
    record_audit_events([_audit_entry(actor, lead)])
    transaction.on_commit(lambda: publish_extraction([lead.pk]))
    return lead


@dataclass
class BulkResult:
    created: list[int]
    duplicates: int
    errors: list[tuple[int, str]]  # (row number, message), nothing written when there are any


@transaction.atomic
def submit_leads(
    *, actor: Any, source: str, rows: Sequence[LeadInput], received_at: dt.datetime | None = None
) -> BulkResult:
    """Take many leads in one transaction (batch files, campaign bursts): all or nothing.

    Every bad row is reported (row numbers from 1) and then nothing is written; rows whose
    reference was already taken in are skipped as duplicates, so a file can be re-run.
    """
    branches = _branches_for(rows)
    errors: list[tuple[int, str]] = []
    cleaned_rows: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        try:
            cleaned_rows.append(_clean_input(row, branches))
        except DomainError as error:
            errors.append((number, error.message))
    if errors:
        return BulkResult(created=[], duplicates=0, errors=errors)
    refs = [c["external_ref"] for c in cleaned_rows if c["external_ref"]]
    taken = set(Lead.objects.filter(source=source, external_ref__in=refs).values_list("external_ref", flat=True))
    now = received_at or timezone.now()
    leads: list[Lead] = []
    seen: set[str] = set()
    duplicates = 0
    for cleaned in cleaned_rows:
        ref = cleaned["external_ref"]
        if ref and (ref in taken or ref in seen):
            duplicates += 1
            continue
        seen.add(ref)
        leads.append(_new_lead(source=source, cleaned=cleaned, received_at=now))
    created = Lead.objects.bulk_create(leads, batch_size=500)
    record_audit_events(_audit_entry(actor, lead) for lead in created)
    ids = [lead.pk for lead in created]
    transaction.on_commit(lambda: publish_extraction(ids))
    return BulkResult(created=ids, duplicates=duplicates, errors=[])


def publish_extraction(lead_ids: Sequence[int]) -> int:
    """Queue extraction; a broker outage leaves the leads in "new" for the sweeper. Returns how many went."""
    from apps.leads.tasks import extract_lead
    from finpulse.celery import app

    published = 0
    connection = app.connection_for_write()
    errors = connection.connection_errors + connection.channel_errors
    try:
        with connection:
            for lead_id in lead_ids:
                extract_lead.apply_async(
                    (int(lead_id),),
                    connection=connection,
                    retry=True,
                    retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5},
                )
                published += 1
    except (*errors, KombuOperationalError, OSError) as error:
        logger.warning(
            "Broker unreachable (%s): %d lead(s) wait for the sweeper.", type(error).__name__, len(lead_ids) - published
        )
    return published


# --- extraction and qualification -------------------------------------------------------------


@transaction.atomic
def start_qualification(*, actor: Any, lead: Lead, reason: str = "") -> Lead:
    """new → qualifying (the worker), or needs_review → qualifying (a reviewer asks for a new reading)."""
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
    lead.extraction_lease_until = None
    lead.extraction_attempts = 0
    lead = _move(
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
        return _move(lead=lead, to_state=S.QUALIFYING, actor=None, action="lead.qualification_started", fields=fields)
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
    if llm.llm_configured():
        try:
            return extract_with_llm(lead.inquiry, names=names), ""
        except llm.LlmError as error:
            if error.reason in _TRANSIENT and lead.extraction_attempts < settings.FINPULSE_LEAD_LLM_MAX_ATTEMPTS:
                raise _defer(lead, error.reason) from error
            fallback = error.reason
    else:
        fallback = llm.NOT_CONFIGURED
    return extract(lead.inquiry, names=names), fallback


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
def qualify_lead(*, actor: Any, lead: Lead, extraction: Extraction, fallback_reason: str = "") -> Lead:
    """qualifying → qualified, or → needs_review when review_reasons finds anything.

    Applied once: a lead no longer in qualifying (another worker finished it) is left alone and
    a Conflict says so, so a duplicated extraction cannot qualify a lead twice.
    """
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
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
    lead.review_reasons = reasons
    lead.extraction_lease_until = None
    to_state = S.NEEDS_REVIEW if reasons else S.QUALIFIED
    return _move(
        lead=lead,
        to_state=to_state,
        actor=actor,
        action="lead.qualified" if to_state == S.QUALIFIED else "lead.sent_to_review",
        reason=" ".join(reasons),
        fields=[
            "intent",
            "intent_confidence",
            "monthly_income",
            "monthly_income_confidence",
            "requested_amount",
            "requested_amount_confidence",
            "currency",
            "loan_purpose",
            "loan_purpose_confidence",
            "constraints",
            "extracted_by",
            "extraction_model",
            "review_reasons",
            "extraction_lease_until",
        ],
        metadata={
            "extracted_by": extraction.extracted_by,
            "model": extraction.model,
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


# --- review, routing, contact, correction, conversion, rejection -----------------------------


@transaction.atomic
def approve_lead(*, actor: Any, lead: Lead, reason: str = "") -> Lead:
    """needs_review → qualified: a person has checked (and perhaps corrected) what was read."""
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
    if lead.state != S.NEEDS_REVIEW:
        check_transition(lead.state, S.QUALIFIED)
        raise Conflict("Only a lead in review can be approved; this one was qualified by its extraction.")
    return _move(lead=lead, to_state=S.QUALIFIED, actor=actor, action="lead.approved", reason=reason)


@transaction.atomic
def flag_for_review(*, actor: Any, lead: Lead, reason: str) -> Lead:
    """qualified → needs_review: a manager wants a second look before it is routed."""
    _ensure_can_act(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the lead needs a review.", field="reason")
    lead = _locked(lead)
    if lead.state == S.QUALIFYING:
        raise Conflict("The lead is still being read; its extraction decides whether it needs a review.")
    lead.review_reasons = [*lead.review_reasons, reason[:500]]
    return _move(
        lead=lead,
        to_state=S.NEEDS_REVIEW,
        actor=actor,
        action="lead.flagged_for_review",
        reason=reason,
        fields=["review_reasons"],
    )


def _notify_assignee(lead: Lead, assignee: Any) -> None:
    """Tell the advisor through the notifications outbox."""
    kind = "lead_assigned"
    channels = chosen_channels(user_ids=[assignee.pk], kinds=[kind])[(assignee.pk, kind)]
    intent = dict(Intent.choices).get(lead.intent, "Lead")
    currency = f"{lead.currency} " if lead.currency else ""
    amount = f" for {currency}{lead.requested_amount:,.0f}" if lead.requested_amount else ""
    due = timezone.localtime(lead.first_contact_due_at)
    enqueue_notifications(
        build_user_notifications(
            user_id=assignee.pk,
            channels_on=channels,
            kind=kind,
            obj=f"lead:{lead.pk}",
            threshold=assignee.pk,
            on=timezone.localdate(),
            subject=f"New lead: {intent}{amount}",
            body=f"Lead #{lead.pk} is yours. First contact due {due:%d %b %H:%M}.",
            url=lead.get_absolute_url(),
        )
    )


def _ensure_can_assign(actor: Any, lead: Lead, assignee: Any) -> None:
    if actor is None or actor.is_administrator:
        return
    if actor.is_branch_manager and actor.branch_id and lead.branch_id in (None, actor.branch_id):
        return
    if actor.is_relationship_manager and assignee.pk == actor.pk and lead.assignee_id is None:
        return  # an advisor takes an unassigned lead of their branch
    raise PermissionDenied("Only a branch manager or an administrator assigns leads to others.")


@transaction.atomic
def assign_lead(*, actor: Any, lead: Lead, assignee: Any = None, reason: str = "") -> Lead:
    """qualified or needs_review → assigned, to `assignee` or to whoever routing chooses.

    Routing (apps.leads.routing) looks at the intent's specialists, the branch and each
    advisor's open-lead load. The advisor is notified in the same transaction (outbox).
    """
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
    check_transition(lead.state, S.ASSIGNED)
    if assignee is None:
        assignee = routing.choose_advisor(lead=lead)
        if assignee is None:
            raise DomainError("No advisor can take this lead: add specialists or managers to its branch.")
        how = "routed"
    else:
        if not routing.can_receive(user=assignee, lead=lead):
            raise DomainError(
                "Leads go to active relationship or branch managers of the lead's branch.", field="assignee"
            )
        how = "manual"
    _ensure_can_assign(actor, lead, assignee)
    lead.assignee = assignee
    fields = ["assignee"]
    if lead.branch_id is None and assignee.branch_id:
        lead.branch_id = assignee.branch_id
        fields.append("branch")
    lead = _move(
        lead=lead,
        to_state=S.ASSIGNED,
        actor=actor,
        action="lead.assigned",
        reason=reason,
        fields=fields,
        changes={"assignee": [None, assignee.pk]},
        metadata={"how": how},
    )
    _notify_assignee(lead, assignee)
    return lead


@transaction.atomic
def reassign_lead(*, actor: Any, lead: Lead, assignee: Any, reason: str = "") -> Lead:
    """Give an assigned lead to someone else (not a state change; audited and notified)."""
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
    if lead.state != S.ASSIGNED:
        raise Conflict("Only an assigned lead can be reassigned; assign it first.")
    if assignee.pk == lead.assignee_id:
        return lead
    if not routing.can_receive(user=assignee, lead=lead):
        raise DomainError("Leads go to active relationship or branch managers of the lead's branch.", field="assignee")
    if actor is not None and not (
        actor.is_administrator or (actor.is_branch_manager and actor.branch_id == lead.branch_id)
    ):
        raise PermissionDenied("Only a branch manager or an administrator reassigns leads.")
    previous = lead.assignee_id
    lead.assignee = assignee
    lead.save(update_fields=["assignee", "updated_at"])
    record_audit_event(
        actor=_actor_or_none(actor),
        action="lead.reassigned",
        target=lead,
        changes={"assignee": [previous, assignee.pk]},
        metadata={"reason": reason[:500]} if reason else {},
    )
    _notify_assignee(lead, assignee)
    return lead


@transaction.atomic
def record_first_contact(*, actor: Any, lead: Lead) -> Lead:
    """The advisor reached the applicant: stops the response-target clock (once)."""
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
    if lead.first_contacted_at is not None:
        raise Conflict("First contact is already recorded for this lead.")
    if lead.state != S.ASSIGNED:
        raise Conflict("Record the first contact on an assigned lead.")
    lead.first_contacted_at = timezone.now()
    lead.save(update_fields=["first_contacted_at", "updated_at"])
    record_audit_event(
        actor=_actor_or_none(actor),
        action="lead.contacted",
        target=lead,
        metadata={"overdue": lead.first_contacted_at > lead.first_contact_due_at},
    )
    return lead


def _parse_correction(name: str, raw: Any) -> Any:
    if name in ("monthly_income", "requested_amount"):
        if raw in (None, ""):
            return None
        try:
            value = Decimal(str(raw).replace(",", "").strip())
        except InvalidOperation:
            raise DomainError("Enter an amount such as 2500 or 2500.50.", field=name) from None
        if not value.is_finite() or value < 0 or value > Decimal("999999999999"):
            raise DomainError("Enter an amount of zero or more.", field=name)
        return value.quantize(Decimal("0.01"))
    if name == "intent":
        if raw not in Intent.values:
            raise DomainError("Choose an intent from the list.", field=name)
        return raw
    if name == "loan_purpose":
        if raw in (None, ""):
            return ""
        if raw not in LoanPurpose.values:
            raise DomainError("Choose a loan purpose from the list.", field=name)
        return raw
    if name == "currency":
        value = (raw or "").strip().upper()
        if value and not re.fullmatch(r"[A-Z]{3}", value):
            raise DomainError("Use a three-letter currency code such as GBP.", field=name)
        return value
    if name == "constraints":
        values = sorted(set(raw or []))
        unknown = [c for c in values if c not in Constraint.values]
        if unknown:
            raise DomainError(f"Unknown constraint(s): {', '.join(unknown)}.", field=name)
        return values
    raise DomainError(f"'{name}' cannot be corrected.")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


@transaction.atomic
def correct_fields(*, actor: Any, lead: Lead, changes: Mapping[str, Any], note: str = "") -> Lead:
    """A person corrects what the extractor read; each changed field is kept as a LeadCorrection.

    A corrected field's confidence becomes 1.0 (a person said so). The state does not move:
    the reviewer approves or assigns as a separate, audited step.
    """
    if actor is None:
        raise PermissionDenied("A correction is made by a person.")
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
    if lead.state in (S.NEW, S.QUALIFYING):
        raise Conflict("The lead is still being read; correct it once its extraction is done.")
    if lead.state in (S.CONVERTED, S.REJECTED):
        raise Conflict("The lead is closed; its fields can no longer change.")
    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be corrected: {', '.join(sorted(unknown))}.")
    now = timezone.now()
    corrections: list[LeadCorrection] = []
    audit_changes: dict[str, list[Any]] = {}
    fields: list[str] = []
    for name, raw in changes.items():
        new = _parse_correction(name, raw)
        old = getattr(lead, name)
        if name == "constraints":
            old = sorted(old or [])
        if old == new:
            continue
        setattr(lead, name, new)
        fields.append(name)
        if name in ("intent", "monthly_income", "requested_amount", "loan_purpose"):
            setattr(lead, f"{name}_confidence", 1.0)
            fields.append(f"{name}_confidence")
        corrections.append(
            LeadCorrection(
                lead=lead,
                field=name,
                old_value=_as_text(old)[:500],
                new_value=_as_text(new)[:500],
                actor=actor,
                at=now,
                note=note[:500],
            )
        )
        audit_changes[name] = [_as_text(old), _as_text(new)]
    if not corrections:
        return lead
    lead.save(update_fields=[*fields, "updated_at"])
    LeadCorrection.objects.bulk_create(corrections)
    record_audit_event(
        actor=actor, action="lead.corrected", target=lead, changes=audit_changes, metadata={"note": note[:500]}
    )
    return lead


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
    _ensure_can_act(actor, lead)
    lead = _locked(lead)
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
    return _move(
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
    _ensure_can_act(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the lead is rejected.", field="reason")
    lead = _locked(lead)
    lead.rejection_reason = reason[:500]
    return _move(
        lead=lead, to_state=S.REJECTED, actor=actor, action="lead.rejected", reason=reason, fields=["rejection_reason"]
    )
