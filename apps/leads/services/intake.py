"""Taking leads in (the API, the form, batch files and campaign bursts) and queueing their extraction.

Contact details and the inquiry are encrypted; audit events and logs carry the lead's id, its
source and masked hints, never the values.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.core.audit import AuditEntry, record_audit_events
from apps.core.blind_index import blind_index
from apps.core.dispatch import task_named
from apps.core.errors import DomainError
from apps.core.masking import mask_email, mask_phone
from apps.core.text_limits import INQUIRY_MAX_LENGTH
from apps.identity.models import Branch
from apps.leads.models import Lead
from apps.leads.selectors import ENCRYPTED
from apps.leads.services.moves import S, actor_or_none

if TYPE_CHECKING:
    from apps.identity.models import User

logger = logging.getLogger(__name__)


MAX_INQUIRY_CHARS = INQUIRY_MAX_LENGTH


MAX_NAME_CHARS = 160


_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]{6,32}$")


@dataclass(frozen=True)
class LeadInput:
    """One lead to take in (the API, the form and batch files all build these)."""

    inquiry: str
    full_name: str = ""
    email: str = ""
    phone: str = ""
    branch_code: str = ""
    external_ref: str = ""


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


def _audit_entry(actor: User | None, lead: Lead) -> AuditEntry:
    return AuditEntry(
        action="lead.received",
        actor=actor_or_none(actor),
        target=lead,
        metadata={"source": lead.source, "branch": lead.branch_id, "external_ref": lead.external_ref},
    )


@transaction.atomic
def submit_lead(*, actor: User | None, source: str, data: LeadInput, received_at: dt.datetime | None = None) -> Lead:
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
    *, actor: User | None, source: str, rows: Sequence[LeadInput], received_at: dt.datetime | None = None
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
    from finpulse.celery import app

    published = 0
    connection = app.connection_for_write()
    errors = connection.connection_errors + connection.channel_errors
    try:
        with connection:
            for lead_id in lead_ids:
                task_named("leads.extract_lead").apply_async(
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
