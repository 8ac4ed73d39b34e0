"""Reads about staff, scoped to who is asking."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from apps.identity import roles
from apps.identity.models import User

MANAGER_ROLES = (roles.RELATIONSHIP_MANAGER, roles.BRANCH_MANAGER)


def can_manage_portfolios(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and (
        user.is_administrator or (user.is_branch_manager and user.branch_id is not None)
    )


def portfolio_managers(*, user: Any) -> QuerySet[User]:
    """Active managers whose portfolios `user` may manage, with their customer counts.

    Administrators see every manager; a branch manager sees the managers of their branch;
    anyone else sees none.
    """
    if not can_manage_portfolios(user):
        return User.objects.none()
    is_manager = Exists(
        Group.objects.filter(user=OuterRef("pk"), name__in=MANAGER_ROLES),
    )
    managers = User.objects.filter(is_manager, is_active=True)
    if not user.is_administrator:
        managers = managers.filter(branch_id=user.branch_id)
    return (
        managers.select_related("branch")
        .annotate(customer_count=Count("primary_customers", filter=Q(primary_customers__isnull=False)))
        .order_by("last_name", "first_name", "username")
    )
