"""Granting access in Django admin is four-eyes ("permission grants", issue 19).

An administrator who gives a person a group, a permission, or the staff or superuser flag, or
gives a group a permission, only *proposes* it; it applies when a second administrator approves
(who is neither the maker nor the person, nor a member of the group, gaining the access).
Removing access applies at once (`apps.identity.services.revoke_access`).

The four-eyes machinery lives in `apps.approvals`, a layer above this app, so the approvals app
hands its proposer in when it starts (`register_grant_proposer`); this module only describes
the grant. Without a proposer (the approvals app not installed) a grant is refused, never applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apps.core.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

    from apps.identity.models import User


@dataclass(frozen=True)
class AccessGrant:
    """What one admin save would add: to a person (`user`) or to a group (`group`)."""

    user: User | None = None
    group: Group | None = None
    group_ids: list[int] = field(default_factory=list)
    permission_ids: list[int] = field(default_factory=list)
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.group_ids or self.permission_ids or self.is_staff or self.is_superuser)


# Any: the approvals app's functions return its ChangeRequest, a type this layer cannot name.
GrantProposer = Callable[..., Any]
PendingLister = Callable[..., list[Any]]
_hooks: dict[str, Callable[..., Any]] = {}


def register_grant_proposer(proposer: GrantProposer, *, pending: PendingLister) -> None:
    """Called once by the approvals app when it starts: how to propose, and what is pending."""
    _hooks.update(propose=proposer, pending=pending)


def propose_access_grant(*, actor: User, grant: AccessGrant, reason: str) -> Any:  # Any: see GrantProposer
    """Propose the grant for a second administrator's approval; nothing is granted now."""
    if "propose" not in _hooks:
        raise DomainError("Access can only be granted through four eyes, and the approvals app is not installed.")
    return _hooks["propose"](actor=actor, grant=grant, reason=reason)


def pending_grants(*, target_type: str, target_id: int) -> list[Any]:  # Any: see GrantProposer
    """Grants waiting for a second administrator on this person ("identity.user") or group ("auth.group")."""
    if "pending" not in _hooks:
        return []
    return list(_hooks["pending"](target_type=target_type, target_id=target_id))
