"""Four eyes on customers: reassigning several customers at once, and exporting personal data
of many customers (issue 19: "PII exports of more than N customers").

- `customers.reassign`: the customer admin's "Reassign to manager…" action and the customer
  list's "give to a colleague" bulk action propose; a second person who could make the move
  (an administrator, or a branch manager who sees every customer and the new manager) approves,
  and `assign_customers` then applies it as the maker (their right is checked again then).
- `customers.pii_export`: an export with personal data of more than
  FINPULSE_FOUR_EYES_EXPORT_THRESHOLD customers is proposed with the exact customers it would
  hold; a second person who may reveal personal data and sees every one of those customers
  approves; the maker may then download it once within FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS
  (`release_approved_export`), and only if the set of customers is still the one approved.

The payloads hold customer ids and counts, never personal data (they are shown to the checker).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.registry import FourEyesAction, register
from apps.approvals.selectors import open_changes
from apps.approvals.services import consume_approved_change, propose_change
from apps.core import versions
from apps.core.audit import clean_reveal_reason
from apps.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from apps.customers.services import assign_customers
from apps.customers.visibility import (
    assignable_managers,
    can_reveal_pii,
    may_assign_customers,
    visible_customers,
)
from apps.identity.user_facts import joined_stamp

if TYPE_CHECKING:
    from apps.identity.models import User

REASSIGN = "customers.reassign"
PII_EXPORT = "customers.pii_export"
CUSTOMER_TARGET = "customers.customer"


def _sees_all(user: User, customer_ids: list[int]) -> bool:
    return visible_customers(user=user).filter(pk__in=customer_ids).count() == len(set(customer_ids))


def _manager_label(user: User) -> str:
    return f"{user.get_full_name() or user.get_username()} ({user.get_username()})"


# --- Reassigning several customers ---


def _apply_reassign(change: ChangeRequest) -> int:
    manager = get_user_model().objects.filter(pk=change.payload["manager_id"]).first()
    if manager is None:
        raise DomainError("The new manager no longer exists.")
    return assign_customers(
        actor=change.maker, customer_ids=change.payload["customer_ids"], manager=manager, reason=change.reason
    )


def _describe_reassign(data: Mapping[str, Any]) -> str:
    return f"Reassign {data['customers']} customer(s) to {data['manager']}"


def _may_approve_reassign(user: User, change: ChangeRequest) -> bool:
    """Someone who could make the move: may assign, sees every customer and the new manager."""
    if not may_assign_customers(user):
        return False
    ids = change.payload["customer_ids"]
    return assignable_managers(actor=user).filter(pk=change.payload["manager_id"]).exists() and _sees_all(user, ids)


register(
    FourEyesAction(
        name=REASSIGN,
        label="Reassignment of customers",
        apply=_apply_reassign,
        describe=_describe_reassign,
        may_approve=_may_approve_reassign,
    )
)


def propose_reassignment(*, actor: User, customer_ids: Iterable[int], manager: User, reason: str) -> ChangeRequest:
    """Propose giving these customers to `manager`; nothing moves until a second person approves.
    Customers the actor cannot see are "not found"; a move the service would refuse is refused now."""
    ids = sorted(set(customer_ids))
    if not ids:
        raise DomainError("Choose at least one customer.")
    if not _sees_all(actor, ids):
        raise PermissionDenied("One of the selected customers is not in your book.")
    if not reason.strip():
        raise DomainError("Say why these customers change hands.", field="reason")
    payload = {
        "customer_ids": ids,
        "customers": len(ids),
        "manager_id": manager.pk,
        "manager": _manager_label(manager),
    }
    return propose_change(
        maker=actor,
        action=REASSIGN,
        payload=payload,
        reason=reason,
        target_type="identity.user",
        target_id=manager.pk,
        customer_id=ids[0] if len(ids) == 1 else None,
    )


# --- Exports with personal data of many customers ---


class ExportAwaitsApproval(DomainError):
    """The export was proposed for a second person's approval; nothing was exported."""

    status, code = 202, "awaits-approval"

    def __init__(self, change: ChangeRequest) -> None:
        super().__init__(
            f"Personal data of {change.payload['customers']} customers needs a second person's approval: "
            f"proposed as request #{change.pk}. Once it is approved, run the same export with "
            f"--approved-request {change.pk} (once, within "
            f"{settings.FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS} hours of the approval)."
        )
        self.change = change


def export_needs_approval(*, include_pii: bool, rows: int) -> bool:
    """The bank rule: personal data of more than N customers leaves only on a second person's word."""
    return include_pii and rows > settings.FINPULSE_FOUR_EYES_EXPORT_THRESHOLD


def _id_fingerprint(customer_ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(str(pk) for pk in sorted(set(customer_ids))).encode()).hexdigest()


def _apply_export(change: ChangeRequest) -> None:
    # Approval releases the export; the maker downloads it (release_approved_export). Their
    # right to export personal data is checked at proposal, here, and again at download.
    if not change.maker.is_active or not can_reveal_pii(user=change.maker):
        raise PermissionDenied("The person who asked for this export may no longer export personal data.")


def _describe_export(data: Mapping[str, Any]) -> str:
    return f"Export personal data of {data['customers']} customers ({data['via']})"


def _may_approve_export(user: User, change: ChangeRequest) -> bool:
    """Someone who may reveal personal data and sees every customer in the export."""
    return can_reveal_pii(user=user) and _sees_all(user, change.payload["customer_ids"])


register(
    FourEyesAction(
        name=PII_EXPORT,
        label="Export of personal data",
        apply=_apply_export,
        describe=_describe_export,
        may_approve=_may_approve_export,
    )
)


def propose_pii_export(
    *, actor: User, customer_ids: Iterable[int], filters: Mapping[str, Any], reason: str, via: str
) -> ChangeRequest:
    """Propose an export with personal data of these customers (the exact set the maker's
    filters give now). `filters` are the audit trail's masked filters, shown to the checker."""
    if not can_reveal_pii(user=actor):
        raise PermissionDenied("Your role may not export personal data.")
    reason = clean_reveal_reason(reason)
    ids = sorted(set(customer_ids))
    payload = {
        "customer_ids": ids,
        "customers": len(ids),
        "fingerprint": _id_fingerprint(ids),
        "filters": dict(filters),
        "via": via,
    }
    change = propose_change(maker=actor, action=PII_EXPORT, payload=payload, reason=reason)
    # The maker's list shows it from now on: their "none" (exports_of) is out of date at once, and
    # again once committed (a list read between the two may have written a "none" of its own).
    _exports_changed(actor)
    return change


def approved_export_for(*, user: User, change_id: int) -> ChangeRequest:
    """An export request of this user's own making; anyone else's is "not found"."""
    change = ChangeRequest.objects.filter(pk=change_id, action=PII_EXPORT, maker=user).first()
    if change is None:
        raise NotFound("No such export.")
    return change


@transaction.atomic
def release_approved_export(*, actor: User, change_id: int, customer_ids: Iterable[int]) -> ChangeRequest:
    """Spend the approval of an export once: its maker, in time, for exactly the customers
    approved (`customer_ids` are those the export would hold now). A changed set is refused and
    the approval stays unspent (this transaction rolls back)."""
    if not can_reveal_pii(user=actor):
        raise PermissionDenied("Your role may not export personal data.")
    change = consume_approved_change(
        user=actor,
        change_id=change_id,
        action=PII_EXPORT,
        valid_hours=settings.FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS,
    )
    if change.payload["fingerprint"] != _id_fingerprint(customer_ids):
        raise Conflict("The customers in this export changed since it was approved; propose it again.")
    return change


# "This maker has no export waiting or ready", remembered so that the customer list does not ask
# on every page (decision 134). Only a proposal makes one appear (approving, refusing, expiring and
# downloading only take them away), so only propose_pii_export makes the entry out of date.
NO_EXPORTS_SECONDS = 60 * 60


def _exports_keys(user: User) -> tuple[str, str]:
    joined = joined_stamp(user)
    return f"pii-exports:none:{user.pk}:{joined}", f"pii-exports:version:{user.pk}:{joined}"


def _exports_changed(user: User) -> None:
    if settings.REDIS_URL:
        versions.replace_on_commit([_exports_keys(user)[1]])


def exports_keys(user: User) -> list[str]:
    """The cache keys exports_of reads for `user` (none without Redis), for a caller that reads
    them in one round trip with its own (decision 187)."""
    # Without Redis the cache is the database's: reading it would be a query too.
    return list(_exports_keys(user)) if settings.REDIS_URL else []


def exports_of(*, user: User, found: Mapping[str, Any] | None = None) -> dict[str, list[ChangeRequest]]:
    """The maker's exports with personal data: waiting for approval, and approved and not yet
    downloaded (shown on the customer list, where they apply). One query for both, none while
    the cache says the maker has none since their last proposal (decision 134).

    `found`: what a `get_many` of `exports_keys(user)` (and maybe other keys) just read, so that
    this reads no cache itself."""
    none_key, version_key = _exports_keys(user)
    if not settings.REDIS_URL:
        found = {}
    elif found is None:
        found = cache.get_many([none_key, version_key])
    version = found.get(version_key)
    if version is not None and found.get(none_key) == version:
        return {"waiting": [], "ready": []}
    since = timezone.now() - dt.timedelta(hours=settings.FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS)
    waiting = open_changes().filter(action=PII_EXPORT, maker=user)
    ready = ChangeRequest.objects.filter(
        action=PII_EXPORT,
        maker=user,
        status=ChangeRequest.Status.APPROVED,
        consumed_at__isnull=True,
        decided_at__gt=since,
    )
    changes = list((waiting | ready).select_related("checker").order_by("created_at"))
    if not changes and settings.REDIS_URL:
        if version is None:  # no version yet (or evicted): start one, unless a proposal just did
            version = versions.start(version_key)
        if version is not None:
            cache.set(none_key, version, NO_EXPORTS_SECONDS)
    pending = [change for change in changes if change.status == ChangeRequest.Status.PENDING]
    approved = sorted(
        (change for change in changes if change.status == ChangeRequest.Status.APPROVED),
        key=lambda change: (change.decided_at, change.created_at),
    )
    return {"waiting": pending, "ready": approved}
