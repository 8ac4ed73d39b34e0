"""Portfolio moves with a preview: what moves (customers, their open tasks, their alerts), then the move.

A branch manager (their branch) or an administrator moves customers between managers, either a
filtered set ("assign") or a whole book ("transfer", a manager leaving). The preview reads only;
the move calls the customers' services (`assign_customers`, `transfer_portfolio`) and hands the
previous manager's open tasks and active alerts on those customers to the new manager: the
previous manager no longer sees the customer, so what they held would be worked by nobody.

The confirm carries the preview's fingerprint (the customers, tasks and alerts it listed). If the
book changed in between, the move is refused and the new preview shown, so a manager never
confirms something other than what they read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet

from apps.alerts.models import Alert
from apps.alerts.services import hand_over_alerts, handed_over_alerts
from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.customers.services import assign_customers, transfer_portfolio
from apps.customers.visibility import visible_customers
from apps.tasks.models import Task
from apps.tasks.services import hand_over_tasks, handed_over_tasks

if TYPE_CHECKING:
    from apps.identity.models import Branch, User

PREVIEW_ROWS = 200  # rows listed per kind; the counts are always whole


@dataclass
class MovePreview:
    """What a move would do; nothing is changed by building it."""

    to_manager: User
    customers: list[Customer]
    customer_count: int
    tasks: list[Task]
    task_count: int
    alerts: list[Alert]
    alert_count: int
    fingerprint: str
    previous_managers: dict[int, int | None] = field(repr=False, default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.customer_count == 0


@dataclass
class MoveResult:
    customers: int
    tasks: int
    alerts: int


def _fingerprint(to_manager: User, customer_ids: list[int], task_ids: list[int], alert_ids: list[int]) -> str:
    text = f"{to_manager.pk}|{customer_ids}|{task_ids}|{alert_ids}"
    return hashlib.sha256(text.encode()).hexdigest()


def customers_to_assign(
    *, user: User, current: User | str | None, segment: str = "", branch: Branch | None = None
) -> QuerySet[Customer]:
    """The customers the assign form names: visible to `user`, of a manager (or unassigned), filtered."""
    customers = visible_customers(user=user)
    if current == "unassigned":
        customers = customers.filter(primary_manager__isnull=True)
    elif current is not None and not isinstance(current, str):
        customers = customers.filter(primary_manager=current)
    if segment:
        customers = customers.filter(segment=segment)
    if branch:
        customers = customers.filter(branch=branch)
    return customers


def customers_of(*, manager: User) -> QuerySet[Customer]:
    """A whole book, as `transfer_portfolio` moves it."""
    return Customer.objects.filter(primary_manager=manager)


def move_preview(*, customers: QuerySet[Customer], to_manager: User) -> MovePreview:
    """Who and what would move to `to_manager`: customers not already theirs, the open tasks and
    active alerts their previous managers hold on them (read only)."""
    moving = customers.exclude(primary_manager=to_manager).order_by("display_name", "pk")
    previous: dict[int, int | None] = dict(moving.values_list("pk", "primary_manager_id"))
    tasks = (
        handed_over_tasks(previous_managers=previous)
        .exclude(assignee=to_manager)
        .select_related("customer", "assignee")
        .order_by("due_at", "pk")
    )
    alerts = (
        handed_over_alerts(previous_managers=previous)
        .exclude(manager=to_manager)
        .select_related("customer", "manager")
        .order_by("due_on", "pk")
    )
    task_ids = list(tasks.values_list("pk", flat=True))
    alert_ids = list(alerts.values_list("pk", flat=True))
    return MovePreview(
        to_manager=to_manager,
        customers=list(moving.select_related("primary_manager", "branch")[:PREVIEW_ROWS]),
        customer_count=len(previous),
        tasks=list(tasks[:PREVIEW_ROWS]),
        task_count=len(task_ids),
        alerts=list(alerts[:PREVIEW_ROWS]),
        alert_count=len(alert_ids),
        fingerprint=_fingerprint(to_manager, sorted(previous), task_ids, alert_ids),
        previous_managers=previous,
    )


def _ensure_unchanged(preview: MovePreview, fingerprint: str) -> None:
    if preview.fingerprint != fingerprint:
        raise Conflict("The customers, tasks or alerts to move changed since the preview. Check the new preview.")


@transaction.atomic
def assign_with_follow_ups(
    *, actor: User, customers: QuerySet[Customer], to_manager: User, reason: str, fingerprint: str
) -> MoveResult:
    """Assign the previewed customers to `to_manager`, with their open tasks and alerts."""
    preview = move_preview(customers=customers.select_for_update(of=("self",)), to_manager=to_manager)
    _ensure_unchanged(preview, fingerprint)
    moved = assign_customers(
        actor=actor, customer_ids=list(preview.previous_managers), manager=to_manager, reason=reason
    )
    return MoveResult(
        customers=moved,
        tasks=hand_over_tasks(actor=actor, previous_managers=preview.previous_managers, manager=to_manager),
        alerts=hand_over_alerts(actor=actor, previous_managers=preview.previous_managers, manager=to_manager),
    )


@transaction.atomic
def transfer_with_follow_ups(
    *, actor: User, from_manager: User, to_manager: User, reason: str, fingerprint: str
) -> MoveResult:
    """Move a whole book (`transfer_portfolio`, audited as a transfer) with its open tasks and alerts."""
    preview = move_preview(
        customers=customers_of(manager=from_manager).select_for_update(of=("self",)), to_manager=to_manager
    )
    _ensure_unchanged(preview, fingerprint)
    moved = transfer_portfolio(actor=actor, from_manager=from_manager, to_manager=to_manager, reason=reason)
    return MoveResult(
        customers=moved,
        tasks=hand_over_tasks(actor=actor, previous_managers=preview.previous_managers, manager=to_manager),
        alerts=hand_over_alerts(actor=actor, previous_managers=preview.previous_managers, manager=to_manager),
    )
