"""Portfolio moves need four eyes: one person proposes a transfer, a second approves it.

A whole-portfolio transfer changes who may see a whole book of customers (their object
permissions), so it is proposed by an administrator or branch manager from the confirmed preview
and applied by `transfer_with_follow_ups` (apps/workspace/portfolio.py: `transfer_portfolio` plus
the hand-over of open tasks and alerts) acting as the maker, only when a second person who could
have made it approves. The proposal carries the preview's fingerprint: the checker approves
exactly what the maker read, and if the book changed in between the approval is refused and the
maker proposes again. The system (imports, the demo) still calls the services directly: four eyes
is about people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from apps.approvals.registry import FourEyesAction, register
from apps.approvals.selectors import open_changes
from apps.approvals.services import may_approve, propose_change
from apps.core.errors import Conflict, DomainError
from apps.customers.models import Customer
from apps.customers.visibility import can_manage_portfolios, portfolio_managers, visible_customers
from apps.workspace.portfolio import MovePreview, assign_with_follow_ups, transfer_with_follow_ups

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest
    from apps.identity.models import User

PORTFOLIO_TRANSFER = "portfolio.transfer"
PORTFOLIO_ASSIGN = "portfolio.assign"
MANAGER_TARGET = "identity.user"


def _apply_transfer(change: ChangeRequest) -> object:
    users = get_user_model().objects.in_bulk([change.payload["from_manager_id"], change.payload["to_manager_id"]])
    from_manager = users.get(change.payload["from_manager_id"])
    to_manager = users.get(change.payload["to_manager_id"])
    if from_manager is None or to_manager is None:
        raise DomainError("One of the two managers no longer exists.")
    return transfer_with_follow_ups(
        actor=change.maker,
        from_manager=from_manager,
        to_manager=to_manager,
        reason=change.reason or "",
        fingerprint=change.payload["fingerprint"],
    )


def _describe_transfer(data: Mapping[str, Any]) -> str:
    return (
        f"Transfer the portfolio of {data['from_manager']} ({data['customers']} customer(s) now) "
        f"to {data['to_manager']}"
    )


def _may_approve_transfer(user: User, change: ChangeRequest) -> bool:
    """Someone who could make the move: an administrator, or a branch manager of both managers' branch."""
    if not can_manage_portfolios(user):
        return False
    ids = {change.payload["from_manager_id"], change.payload["to_manager_id"]}
    return portfolio_managers(user=user).filter(pk__in=ids).count() == len(ids)


register(
    FourEyesAction(
        name=PORTFOLIO_TRANSFER,
        label="Portfolio transfer",
        apply=_apply_transfer,
        describe=_describe_transfer,
        may_approve=_may_approve_transfer,
    )
)


def propose_portfolio_transfer(
    *, actor: User, from_manager: User, to_manager: User, reason: str, fingerprint: str
) -> ChangeRequest:
    """Propose the previewed move of every customer of `from_manager` to `to_manager`; nothing
    moves until a second person approves (a changed book is refused now, by the dry run)."""
    waiting = open_changes().filter(
        action=PORTFOLIO_TRANSFER, target_type=MANAGER_TARGET, target_id=str(from_manager.pk)
    )
    if waiting.exists():
        raise Conflict("A transfer of this portfolio already waits for approval.", field="from_manager")
    payload = {
        "from_manager_id": from_manager.pk,
        "to_manager_id": to_manager.pk,
        "from_manager": from_manager.get_username(),
        "to_manager": to_manager.get_username(),
        "customers": from_manager.primary_customers.count(),
        "fingerprint": fingerprint,
    }
    return propose_change(
        maker=actor,
        action=PORTFOLIO_TRANSFER,
        payload=payload,
        reason=reason,
        target_type=MANAGER_TARGET,
        target_id=from_manager.pk,
    )


# --- Bulk assignment (/portfolio/assign/): the previewed customers, by filter, to one manager ---


def _apply_assign(change: ChangeRequest) -> object:
    to_manager = get_user_model().objects.filter(pk=change.payload["to_manager_id"]).first()
    if to_manager is None:
        raise DomainError("The new manager no longer exists.")
    return assign_with_follow_ups(
        actor=change.maker,
        customers=Customer.objects.filter(pk__in=change.payload["customer_ids"]),
        to_manager=to_manager,
        reason=change.reason or "",
        fingerprint=change.payload["fingerprint"],
    )


def _describe_assign(data: Mapping[str, Any]) -> str:
    return (
        f"Assign {data['customers']} customer(s) ({data['filter']}) to {data['to_manager']}, "
        f"with {data['tasks']} open task(s) and {data['alerts']} alert(s)"
    )


def _may_approve_assign(user: User, change: ChangeRequest) -> bool:
    """Someone who could make the move: manages portfolios, sees every customer and the new manager."""
    if (
        not can_manage_portfolios(user)
        or not portfolio_managers(user=user).filter(pk=change.payload["to_manager_id"]).exists()
    ):
        return False
    ids = change.payload["customer_ids"]
    return visible_customers(user=user).filter(pk__in=ids).count() == len(ids)


register(
    FourEyesAction(
        name=PORTFOLIO_ASSIGN,
        label="Bulk assignment",
        apply=_apply_assign,
        describe=_describe_assign,
        may_approve=_may_approve_assign,
    )
)


def propose_bulk_assignment(
    *, actor: User, preview: MovePreview, filter_label: str, reason: str, fingerprint: str
) -> ChangeRequest:
    """Propose the previewed assignment; nothing moves until a second person approves it, and
    then only if the customers, tasks and alerts are still those the maker previewed."""
    if preview.fingerprint != fingerprint:
        raise Conflict("The customers, tasks or alerts to move changed since the preview. Check the new preview.")
    if not preview.customer_count:
        raise DomainError("No customer would move: every one of them is already this manager's.")
    to_manager = preview.to_manager
    payload = {
        "customer_ids": sorted(preview.previous_managers),
        "customers": preview.customer_count,
        "tasks": preview.task_count,
        "alerts": preview.alert_count,
        "to_manager_id": to_manager.pk,
        "to_manager": to_manager.get_username(),
        "filter": filter_label,
        "fingerprint": fingerprint,
    }
    return propose_change(
        maker=actor,
        action=PORTFOLIO_ASSIGN,
        payload=payload,
        reason=reason,
        target_type=MANAGER_TARGET,
        target_id=to_manager.pk,
    )


def pending_portfolio_changes(*, user: User) -> list[ChangeRequest]:
    """Transfers and bulk assignments waiting for approval that this user proposed or may
    approve (the portfolio page)."""
    changes = (
        open_changes()
        .filter(action__in=[PORTFOLIO_TRANSFER, PORTFOLIO_ASSIGN])
        .select_related("maker")
        .order_by("created_at")
    )
    return [change for change in changes[:200] if change.maker_id == user.pk or may_approve(user=user, change=change)]
