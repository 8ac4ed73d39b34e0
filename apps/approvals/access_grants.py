"""The four-eyes action for access granted in Django admin (`identity.access_grant`).

Proposed by `apps.identity.access_grants.propose_access_grant` (the admin's save of a person or a
group), applied by `apps.identity.services.grant_access` acting as the maker when a second
administrator approves. The checker is never the person gaining the access, nor a member of the
group gaining it: nobody approves their own new rights. The payload holds ids and names only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission

from apps.approvals.registry import FourEyesAction, register
from apps.approvals.selectors import open_changes
from apps.approvals.services import propose_change
from apps.core.errors import DomainError
from apps.identity.access_grants import AccessGrant, register_grant_proposer
from apps.identity.models import User
from apps.identity.services import grant_access

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest

ACCESS_GRANT = "identity.access_grant"
USER_TARGET = "identity.user"
GROUP_TARGET = "auth.group"


def _apply(change: ChangeRequest) -> None:
    data = change.payload
    if data.get("user_id"):
        user = User.objects.filter(pk=data["user_id"]).first()
        if user is None:
            raise DomainError("This person no longer exists.")
        grant_access(
            actor=change.maker,
            user=user,
            group_ids=data["group_ids"],
            permission_ids=data["permission_ids"],
            is_staff=data["is_staff"],
            is_superuser=data["is_superuser"],
        )
        return
    group = Group.objects.filter(pk=data["group_id"]).first()
    if group is None:
        raise DomainError("This group no longer exists.")
    grant_access(actor=change.maker, group=group, permission_ids=data["permission_ids"])


def _describe(data: Mapping[str, Any]) -> str:
    given = [
        *(f"group “{name}”" for name in data["groups"]),
        *(f"permission {name}" for name in data["permissions"]),
        *(["staff status"] if data["is_staff"] else []),
        *(["superuser status"] if data["is_superuser"] else []),
    ]
    return f"Give {data['subject']}: {', '.join(given)}"


def _may_approve(user: User, change: ChangeRequest) -> bool:
    """Another administrator who gains nothing from it."""
    if not user.is_administrator or user.pk == change.payload.get("user_id"):
        return False
    group_id = change.payload.get("group_id")
    return not (group_id and user.groups.filter(pk=group_id).exists())


register(
    FourEyesAction(name=ACCESS_GRANT, label="Access grant", apply=_apply, describe=_describe, may_approve=_may_approve)
)


def propose_access_grant(*, actor: User, grant: AccessGrant, reason: str) -> ChangeRequest:
    """Record the grant as a four-eyes request (see apps.identity.access_grants)."""
    if grant.is_empty:
        raise DomainError("Nothing to grant.")
    permissions = Permission.objects.filter(pk__in=grant.permission_ids).select_related("content_type")
    payload: dict[str, Any] = {
        "group_ids": sorted(grant.group_ids),
        "permission_ids": sorted(grant.permission_ids),
        "groups": sorted(Group.objects.filter(pk__in=grant.group_ids).values_list("name", flat=True)),
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions),
        "is_staff": grant.is_staff,
        "is_superuser": grant.is_superuser,
    }
    if grant.user is not None:
        payload |= {"user_id": grant.user.pk, "subject": grant.user.get_username()}
        target_type, target_id = USER_TARGET, grant.user.pk
    elif grant.group is not None:
        payload |= {"group_id": grant.group.pk, "subject": f"the group “{grant.group.name}”"}
        target_type, target_id = GROUP_TARGET, grant.group.pk
    else:
        raise DomainError("Grant access to one person or one group.")
    return propose_change(
        maker=actor,
        action=ACCESS_GRANT,
        payload=payload,
        reason=reason or "Granted in Django admin",
        target_type=target_type,
        target_id=target_id,
    )


def pending_grants(*, target_type: str, target_id: int) -> list[ChangeRequest]:
    """Grants waiting for approval on this person or group (shown on its admin page)."""
    return list(
        open_changes()
        .filter(action=ACCESS_GRANT, target_type=target_type, target_id=str(target_id))
        .select_related("maker")
        .order_by("created_at")
    )


register_grant_proposer(propose_access_grant, pending=pending_grants)
