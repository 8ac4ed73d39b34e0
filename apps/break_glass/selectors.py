"""Reads of break-glass access for the person who asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.selectors import open_changes
from apps.break_glass.services import BREAK_GLASS
from apps.customers.models import BreakGlassGrant

if TYPE_CHECKING:
    from apps.identity.models import User


def active_grants(*, user: User) -> list[BreakGlassGrant]:
    """The user's own break-glass grants in force now, soonest to end first."""
    now = timezone.now()
    return list(
        BreakGlassGrant.objects.filter(user=user, starts_at__lte=now, expires_at__gt=now)
        .select_related("customer")
        .order_by("expires_at")
    )


def waiting_requests(*, user: User) -> list[ChangeRequest]:
    """The user's own break-glass requests that wait for a second person."""
    return list(open_changes().filter(action=BREAK_GLASS, maker=user).order_by("-created_at"))
