"""Four eyes (maker-checker): propose, approve, reject or withdraw, expire.

A change proposed here does nothing until a second, different, authorised person approves it;
then the action's apply function makes it through the owning service, in the approval's
transaction. Every step is an audit event (`change_request.proposed`, `.approved`,
`.rejected`, `.withdrawn`, `.expired`). A request not decided within
FINPULSE_FOUR_EYES_EXPIRY_HOURS expires (lazily when someone tries to approve it, and by the
beat job `approvals.expire_changes`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.registry import action_named
from apps.core.audit import AuditEntry, record_audit_event, record_audit_events
from apps.core.errors import Conflict, DomainError, NotFound, PermissionDenied

if TYPE_CHECKING:
    from apps.identity.models import User


class _DryRunDone(Exception):
    """Rolls the savepoint of a proposal's dry run back."""


def expiry_from(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(hours=settings.FINPULSE_FOUR_EYES_EXPIRY_HOURS)


def _jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    # Decimals, dates and ids as the JSON column will read them back, so the dry run and the
    # approval see the same values.
    return json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder))


def _audit(change: ChangeRequest, *, actor: User | None, action: str, **metadata: Any) -> None:
    record_audit_event(
        actor=actor,
        action=action,
        target=change,
        customer_id=change.customer_id,
        metadata={
            "four_eyes_action": change.action,
            "summary": change.summary,
            "maker": change.maker_id,
            "target": f"{change.target_type}:{change.target_id}" if change.target_type else "",
            **metadata,
        },
    )


@transaction.atomic
def propose_change(
    *,
    maker: User,
    action: str,
    payload: Mapping[str, Any],
    reason: str = "",
    target_type: str = "",
    target_id: str | int = "",
    customer_id: int | None = None,
) -> ChangeRequest:
    """Record a proposed change; nothing is applied. The action's dry run refuses now what the
    service would refuse at approval."""
    if not getattr(maker, "is_authenticated", False) or not maker.is_active:
        raise PermissionDenied("Sign in to propose a change.")
    kind = action_named(action)
    now = timezone.now()
    change = ChangeRequest(
        action=kind.name,
        payload=_jsonable(payload),
        summary=kind.describe(_jsonable(payload))[:300],
        reason=reason.strip()[:500],
        maker=maker,
        created_at=now,
        expires_at=expiry_from(now),
        target_type=target_type,
        target_id=str(target_id),
        customer_id=customer_id,
    )
    if kind.dry_run:
        try:
            with transaction.atomic():
                kind.apply(change)
                raise _DryRunDone
        except _DryRunDone:
            pass
    change.save()
    _audit(change, actor=maker, action="change_request.proposed", reason=change.reason)
    return change


def _locked(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().select_related("maker").get(pk=change.pk)


def _ensure_open(change: ChangeRequest, now: dt.datetime) -> None:
    if change.status != ChangeRequest.Status.PENDING:
        raise Conflict(f"This request is already {change.get_status_display().lower()}.")
    if change.expires_at <= now:
        raise Conflict("This request has expired; propose the change again.")


def may_approve(*, user: User, change: ChangeRequest) -> bool:
    """The second pair of eyes: signed in, active, not the maker, and authorised by the action."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.pk == change.maker_id:
        return False
    return bool(action_named(change.action).may_approve(user, change))


def approve_change(*, checker: User, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """Apply a pending change on a second person's word.

    The maker can never approve their own change (checked here and by a database constraint).
    A request found expired is marked so (its own audited transaction) and refused.
    """
    try:
        return _approve(checker=checker, change=change, note=note)
    except _Expired:
        expire_changes(ids=[change.pk])
        raise Conflict("This request has expired; propose the change again.") from None


class _Expired(Exception):
    pass


@transaction.atomic
def _approve(*, checker: User, change: ChangeRequest, note: str) -> ChangeRequest:
    change = _locked(change)
    now = timezone.now()
    if change.maker_id == checker.pk:
        raise PermissionDenied("You proposed this change: a second person must approve it.")
    if change.status == ChangeRequest.Status.PENDING and change.expires_at <= now:
        raise _Expired
    _ensure_open(change, now)
    if not may_approve(user=checker, change=change):
        raise PermissionDenied("You are not authorised to approve this kind of change.")
    change.status = ChangeRequest.Status.APPROVED
    change.checker = checker
    change.decided_at = now
    change.decision_note = note.strip()[:500]
    change.save(update_fields=["status", "checker", "decided_at", "decision_note"])
    _audit(change, actor=checker, action="change_request.approved", note=change.decision_note)
    action_named(change.action).apply(change)
    return change


@transaction.atomic
def reject_change(*, actor: User, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """A checker rejects a pending change, or its maker withdraws it; nothing is applied."""
    change = _locked(change)
    now = timezone.now()
    _ensure_open(change, now)
    if actor.pk == change.maker_id:
        status, action = ChangeRequest.Status.WITHDRAWN, "change_request.withdrawn"
    elif may_approve(user=actor, change=change):
        if not note.strip():
            raise DomainError("Say why you reject this change.", field="note")
        status, action = ChangeRequest.Status.REJECTED, "change_request.rejected"
    else:
        raise PermissionDenied("You are not authorised to decide this kind of change.")
    change.status = status
    change.checker = actor
    change.decided_at = now
    change.decision_note = note.strip()[:500]
    change.save(update_fields=["status", "checker", "decided_at", "decision_note"])
    _audit(change, actor=actor, action=action, note=change.decision_note)
    return change


@transaction.atomic
def expire_changes(*, ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Mark every pending request past its expiry as expired (beat, and lazily on approval)."""
    now = now or timezone.now()
    due = ChangeRequest.objects.select_for_update(skip_locked=True).filter(
        status=ChangeRequest.Status.PENDING, expires_at__lte=now
    )
    if ids is not None:
        due = due.filter(pk__in=ids)
    changes = list(due.order_by("pk"))
    if not changes:
        return 0
    ChangeRequest.objects.filter(pk__in=[c.pk for c in changes]).update(
        status=ChangeRequest.Status.EXPIRED, decided_at=now
    )
    record_audit_events(
        AuditEntry(
            action="change_request.expired",
            actor=None,
            object_type="approvals.changerequest",
            object_id=change.pk,
            customer_id=change.customer_id,
            metadata={"four_eyes_action": change.action, "summary": change.summary, "maker": change.maker_id},
        )
        for change in changes
    )
    return len(changes)


@transaction.atomic
def consume_approved_change(*, user: User, change_id: int, action: str, valid_hours: int) -> ChangeRequest:
    """Use an approved change once: its maker only, within `valid_hours` of the approval.

    For changes whose effect is something the maker takes away (an export with personal data):
    the approval releases it, this call spends it. Anyone else, or another kind of change, gets
    "no such request"; a second use or a late one is refused. Audited as `change_request.consumed`.
    """
    try:
        change = ChangeRequest.objects.select_for_update().get(pk=change_id, action=action, maker=user)
    except ChangeRequest.DoesNotExist:
        raise NotFound("No such request.") from None
    now = timezone.now()
    if change.status != ChangeRequest.Status.APPROVED:
        raise Conflict(f"This request is {change.get_status_display().lower()}, not approved.")
    if change.consumed_at is not None:
        raise Conflict("This approved request has already been used; propose it again.")
    if change.decided_at is None or change.decided_at + dt.timedelta(hours=valid_hours) <= now:
        raise Conflict(f"An approval can be used within {valid_hours} hour(s); this one has lapsed. Propose again.")
    change.consumed_at = now
    change.save(update_fields=["consumed_at"])
    _audit(change, actor=user, action="change_request.consumed")
    return change
