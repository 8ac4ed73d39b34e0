"""Break-glass access: a manager opens a customer outside their book, for a reason and a time.

The manager asks (`request_break_glass`); a second person approves it through four eyes
(an administrator, or a branch manager of the customer's branch, never the one who asked); the
approval writes a `BreakGlassGrant` that the one visibility rule reads
(apps/customers/visibility.py: `CustomerScope.granted_ids`) until it expires, after
FINPULSE_BREAK_GLASS_HOURS, by itself. The customer's manager, every compliance officer and the
requester are notified through the notifications outbox in the approval's transaction; the
request, the approval and the grant are audit events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.registry import FourEyesAction, register
from apps.approvals.selectors import open_changes
from apps.approvals.services import propose_change
from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.customers.book_facts import forget_books
from apps.customers.models import BreakGlassGrant, Customer
from apps.customers.visibility import visible_customers
from apps.identity import roles
from apps.notifications.models import Channel, Kind
from apps.notifications.selectors import chosen_channels
from apps.notifications.services import build_user_notifications, enqueue_notifications

if TYPE_CHECKING:
    from apps.identity.models import User

BREAK_GLASS = "customer.break_glass"
CUSTOMER_TARGET = "customers.customer"


def may_request_break_glass(user: User) -> bool:
    """Relationship and branch managers; compliance and administrators already see everyone."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.is_administrator or user.is_compliance_officer:
        return False
    return user.is_relationship_manager or user.is_branch_manager


def _hours() -> int:
    return int(settings.FINPULSE_BREAK_GLASS_HOURS)


@transaction.atomic
def request_break_glass(*, actor: User, external_id: str, reason: str) -> ChangeRequest:
    """Ask for time-limited access to one customer outside the actor's book, saying why."""
    if not may_request_break_glass(actor):
        raise PermissionDenied("Only relationship and branch managers ask for break-glass access.")
    reason = reason.strip()
    if len(reason) < 10:
        raise DomainError("Say why you need this customer (at least 10 characters).", field="reason")
    customer = Customer.objects.filter(external_id=external_id.strip()).only("pk", "branch_id").first()
    if customer is None:
        raise DomainError("No customer has this customer number.", field="external_id")
    if visible_customers(user=actor).filter(pk=customer.pk).exists():
        raise DomainError("This customer is already in your book: open it from the customer list.", field="external_id")
    waiting = open_changes().filter(action=BREAK_GLASS, maker=actor, customer_id=customer.pk)
    if waiting.exists():
        raise Conflict("You have already asked for this customer; it waits for approval.")
    return propose_change(
        maker=actor,
        action=BREAK_GLASS,
        payload={"customer_id": customer.pk, "hours": _hours()},
        reason=reason,
        target_type=CUSTOMER_TARGET,
        target_id=customer.pk,
        customer_id=customer.pk,
    )


def _describe(payload: Mapping[str, Any]) -> str:
    return f"Break-glass access to customer #{payload['customer_id']} for {payload['hours']} h"


def _may_approve(user: User, change: ChangeRequest) -> bool:
    if not user.is_active:
        return False
    if user.is_administrator:
        return True
    if not (user.is_branch_manager and user.branch_id and change.customer_id):
        return False
    return Customer.objects.filter(pk=change.customer_id, branch_id=user.branch_id).exists()


def _recipients(customer: Customer, requester: User) -> list[int]:
    users = get_user_model().objects.filter(is_active=True)
    compliance = users.filter(groups__name=roles.COMPLIANCE_OFFICER).values_list("pk", flat=True)
    ids = {requester.pk, *compliance}
    if customer.primary_manager_id:
        ids.add(customer.primary_manager_id)
    return sorted(ids)


def _notify(grant: BreakGlassGrant, customer: Customer, requester: User, checker: User) -> None:
    recipients = _recipients(customer, requester)
    channels = chosen_channels(user_ids=recipients, kinds=[Kind.BREAK_GLASS])
    until = timezone.localtime(grant.expires_at)
    rows = []
    for user_id in recipients:
        # Compliance and the customer's manager must hear of it: the bell at least, whatever
        # the preferences say (email too when chosen).
        chosen = channels[(user_id, Kind.BREAK_GLASS)] | {Channel.IN_APP}
        rows += build_user_notifications(
            user_id=user_id,
            channels_on=chosen,
            kind=Kind.BREAK_GLASS,
            obj=f"break_glass:{grant.pk}",
            threshold=0,
            on=timezone.localdate(),
            subject=f"Break-glass access: {requester.get_username()} to customer #{customer.pk}",
            body=(
                f"{requester.get_username()} may open customer #{customer.pk} until {until:%d %b %H:%M}, "
                f"approved by {checker.get_username()}. Reason: {grant.reason}"
            ),
            url=reverse("customers:detail", args=[customer.pk]),
        )
    enqueue_notifications(rows)


def _apply(change: ChangeRequest) -> BreakGlassGrant:
    if change.checker is None:  # dry_run=False: only an approval applies it
        raise DomainError("Break-glass access is granted only on approval.")
    customer = Customer.objects.get(pk=change.payload["customer_id"])
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=change.maker,
        customer=customer,
        reason=change.reason,
        approved_by=change.checker,
        change_request_id=change.pk,
        starts_at=now,
        expires_at=now + dt.timedelta(hours=int(change.payload.get("hours") or _hours())),
    )
    record_audit_event(
        actor=change.checker,
        action="customer.break_glass_granted",
        target=grant,
        customer_id=customer.pk,
        metadata={
            "user": change.maker_id,
            "reason": grant.reason,
            "until": grant.expires_at.isoformat(),
            "change_request": change.pk,
        },
    )
    forget_books()  # the customer joins the maker's book until the grant ends
    _notify(grant, customer, change.maker, change.checker)
    return grant


register(
    FourEyesAction(
        name=BREAK_GLASS,
        label="Break-glass access to a customer",
        apply=_apply,
        describe=_describe,
        may_approve=_may_approve,
        dry_run=False,
    )
)
