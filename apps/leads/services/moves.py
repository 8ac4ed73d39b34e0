"""Locking a lead and moving it through the state machine: what every lead service shares.

Every move goes through `move`, which checks the transition table (apps.leads.state) on the
row locked with select_for_update, writes one LeadTransition and one audit event, and stamps
the time, so the time spent in each state is known; an illegal move raises Conflict and writes
nothing. Compliance officers read leads and change nothing (`ensure_can_act`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.core.errors import NotFound, PermissionDenied
from apps.customers.visibility import may_edit_customers
from apps.leads.models import Lead, LeadTransition
from apps.leads.selectors import ENCRYPTED, visible_leads
from apps.leads.state import check_transition

if TYPE_CHECKING:
    from apps.identity.models import User

S = Lead.State


def actor_or_none(actor: User | None) -> Any:
    return actor if getattr(actor, "pk", None) else None


def ensure_can_act(actor: User | None, lead: Lead) -> None:
    """The system (None) may act; a person must be allowed to write and able to see the lead."""
    if actor is None:
        return
    if not may_edit_customers(actor):
        raise PermissionDenied("Your role may read leads but not change them.")
    if not visible_leads(user=actor).filter(pk=lead.pk).exists():
        raise NotFound("No such lead.")


def locked_lead(lead: Lead | int) -> Lead:
    pk = lead.pk if isinstance(lead, Lead) else lead
    try:
        return Lead.objects.select_for_update().defer(*ENCRYPTED).get(pk=pk)
    except Lead.DoesNotExist:
        raise NotFound("No such lead.") from None


def move(
    *,
    lead: Lead,
    to_state: str,
    actor: User | None,
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
    actor = actor_or_none(actor)
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
