"""A person corrects what the extractor read; each changed field is kept as a LeadCorrection."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.leads.fields import CORRECTABLE_FIELDS, SCORED_FIELDS
from apps.leads.models import Constraint, Intent, Lead, LeadCorrection, LoanPurpose
from apps.leads.services.moves import S, ensure_can_act, locked_lead

if TYPE_CHECKING:
    from apps.identity.models import User


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
        code = (raw or "").strip().upper()
        if code and not re.fullmatch(r"[A-Z]{3}", code):
            raise DomainError("Use a three-letter currency code such as GBP.", field=name)
        return code
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
def correct_fields(*, actor: User | None, lead: Lead, changes: Mapping[str, Any], note: str = "") -> Lead:
    """A person corrects what the extractor read; each changed field is kept as a LeadCorrection.

    A corrected field's confidence becomes 1.0 (a person said so). The state does not move:
    the reviewer approves or assigns as a separate, audited step.
    """
    if actor is None:
        raise PermissionDenied("A correction is made by a person.")
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
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
        if name in SCORED_FIELDS:
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
