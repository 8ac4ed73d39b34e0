"""Routing a lead to an advisor (notified through the outbox) and recording the first contact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.leads import routing
from apps.leads.models import Intent, Lead
from apps.leads.services.moves import S, actor_or_none, ensure_can_act, locked_lead, move
from apps.leads.state import check_transition
from apps.notifications.selectors import chosen_channels
from apps.notifications.services import build_user_notifications, enqueue_notifications

if TYPE_CHECKING:
    from apps.identity.models import User


def _notify_assignee(lead: Lead, assignee: User) -> None:
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


def _ensure_can_assign(actor: User | None, lead: Lead, assignee: User) -> None:
    if actor is None or actor.is_administrator:
        return
    if actor.is_branch_manager and actor.branch_id and lead.branch_id in (None, actor.branch_id):
        return
    if actor.is_relationship_manager and assignee.pk == actor.pk and lead.assignee_id is None:
        return  # an advisor takes an unassigned lead of their branch
    raise PermissionDenied("Only a branch manager or an administrator assigns leads to others.")


@transaction.atomic
def assign_lead(*, actor: User | None, lead: Lead, assignee: User | None = None, reason: str = "") -> Lead:
    """qualified or needs_review → assigned, to `assignee` or to whoever routing chooses.

    Routing (apps.leads.routing) looks at the intent's specialists, the branch and each
    advisor's open-lead load. The advisor is notified in the same transaction (outbox).
    """
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
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
    lead = move(
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
def reassign_lead(*, actor: User | None, lead: Lead, assignee: User, reason: str = "") -> Lead:
    """Give an assigned lead to someone else (not a state change; audited and notified)."""
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
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
        actor=actor_or_none(actor),
        action="lead.reassigned",
        target=lead,
        changes={"assignee": [previous, assignee.pk]},
        metadata={"reason": reason[:500]} if reason else {},
    )
    _notify_assignee(lead, assignee)
    return lead


@transaction.atomic
def record_first_contact(*, actor: User | None, lead: Lead) -> Lead:
    """The advisor reached the applicant: stops the response-target clock (once)."""
    ensure_can_act(actor, lead)
    lead = locked_lead(lead)
    if lead.first_contacted_at is not None:
        raise Conflict("First contact is already recorded for this lead.")
    if lead.state != S.ASSIGNED:
        raise Conflict("Record the first contact on an assigned lead.")
    lead.first_contacted_at = timezone.now()
    lead.save(update_fields=["first_contacted_at", "updated_at"])
    record_audit_event(
        actor=actor_or_none(actor),
        action="lead.contacted",
        target=lead,
        metadata={"overdue": lead.first_contacted_at > lead.first_contact_due_at},
    )
    return lead
