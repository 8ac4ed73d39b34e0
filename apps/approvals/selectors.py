"""Reads of four-eyes requests: what is pending where it will apply, and a person's inbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import JSONArray
from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.services import may_approve
from apps.core.errors import NotFound

if TYPE_CHECKING:
    from apps.identity.models import User


def open_changes(*, now: dt.datetime | None = None) -> QuerySet[ChangeRequest]:
    """Pending and not yet expired (the beat job marks the expired ones; until then they are
    simply no longer shown nor approvable); `now` for a statement compiled once with a marker."""
    return ChangeRequest.objects.filter(
        status=ChangeRequest.Status.PENDING, expires_at__gt=timezone.now() if now is None else now
    )


def pending_changes(*, target_type: str, target_id: str | int, actions: tuple[str, ...] = ()) -> list[ChangeRequest]:
    """What is waiting to change this object (shown on its page): who proposed what, until when.

    The caller has already decided the viewer may see the object."""
    changes = open_changes().filter(target_type=target_type, target_id=str(target_id))
    if actions:
        changes = changes.filter(action__in=actions)
    return list(changes.select_related("maker").order_by("created_at"))


def _about_customer(customer: Any) -> Q:
    """Changes about one customer (its id, or an expression for it): those that name it, and those
    about many customers that list it in their payload's `customer_ids` (a bulk reassignment, an
    export with personal data)."""
    return Q(customer_id=customer) | Q(payload__customer_ids__contains=JSONArray(customer))


def pending_changes_for_customer(*, customer_id: int) -> list[ChangeRequest]:
    """Pending changes about one customer (the caller has checked the viewer may see it)."""
    return list(open_changes().filter(_about_customer(customer_id)).select_related("maker").order_by("created_at"))


def has_pending_changes(customer: Any = None, *, now: dt.datetime | None = None) -> Exists:
    """Whether pending_changes_for_customer would find any, as a column of a query over customers
    (`customer` defaults to the outer row's id): a page loading the customer anyway learns it in
    the same round trip and reads the changes only when there are some."""
    return Exists(open_changes(now=now).filter(_about_customer(OuterRef("pk") if customer is None else customer)))


def changes_awaiting(*, user: User) -> list[ChangeRequest]:
    """Open requests this user may approve: never their own, only the kinds they are
    authorised for (each action decides, e.g. a branch manager for their own branch)."""
    candidates = open_changes().exclude(maker=user).select_related("maker").order_by("expires_at")[:500]
    return [change for change in candidates if may_approve(user=user, change=change)]


def changes_made_by(*, user: User, limit: int = 50) -> list[ChangeRequest]:
    return list(ChangeRequest.objects.filter(maker=user).select_related("checker").order_by("-created_at")[:limit])


def change_for_user(*, user: User, change_id: int) -> ChangeRequest:
    """One request its maker, a possible checker, or its checker may open; anyone else gets 404."""
    try:
        change = ChangeRequest.objects.select_related("maker", "checker").get(pk=change_id)
    except ChangeRequest.DoesNotExist:
        raise NotFound("No such request.") from None
    if user.pk in (change.maker_id, change.checker_id) or may_approve(user=user, change=change):
        return change
    if user.is_active and (user.is_administrator or user.is_compliance_officer):
        return change  # they review what happened (compliance reads everything, decides nothing)
    raise NotFound("No such request.")
