"""Writes of the manager's cockpit: report exports, saved views, bulk actions on the customer list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.core.audit import record_audit_event
from apps.core.errors import DomainError, NotFound, PermissionDenied
from apps.customers.four_eyes import propose_reassignment
from apps.customers.models import Customer
from apps.customers.visibility import ensure_can_edit, visible_customers
from apps.opportunities.models import Opportunity
from apps.opportunities.services import open_opportunities_for_customers
from apps.products.models import Product
from apps.tasks.models import Task
from apps.tasks.services import create_task
from apps.workspace.customer_list import is_pii_search
from apps.workspace.models import SavedView

if TYPE_CHECKING:
    from apps.approvals.models import ChangeRequest
    from apps.identity.models import User


@transaction.atomic
def record_report_export(*, actor: User, report: str, filters: Mapping[str, Any], rows: int) -> None:
    """A report leaves the bank's systems as a file: who, which report, which options, how many
    rows, recorded before the first byte is sent (as the customer export does). The report
    holds aggregates and managers' names, no customer's personal data, so no reason is asked."""
    record_audit_event(
        actor=actor,
        action="report.exported",
        metadata={"report": report, "filters": dict(filters), "rows": rows},
    )


# --- saved views --------------------------------------------------------------------------

VIEW_NAME_MAX = 80
# Filters a saved view may keep: the customer list's own (apps.workspace.forms).
VIEW_PARAMS = frozenset(
    {
        "q",
        "segment",
        "branch",
        "kyc_due",
        "maturing",
        "sort",
        "holding_category",
        "currency",
        "matures_from",
        "matures_to",
        "contact_overdue",
        "manager",
    }
)


@transaction.atomic
def save_view(*, actor: User, name: str, params: Mapping[str, Any], sharing: str) -> SavedView:
    """Save the customer list's filters and sort under a name (a second save of a name replaces it).

    A view shared with the branch is seen by its managers; it keeps filters, never data: opening
    it still shows each person only the customers they may see. A search for an email, phone or
    id is personal data and is never kept (as the list's remembered filters do not keep it).
    """
    ensure_can_edit(actor)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the view a name.", field="name")
    if len(name) > VIEW_NAME_MAX:
        raise DomainError(f"Keep the name under {VIEW_NAME_MAX} characters.", field="name")
    if sharing not in SavedView.Sharing.values:
        raise DomainError("Choose who sees the view.", field="sharing")
    if sharing == SavedView.Sharing.BRANCH and not actor.branch_id:
        raise DomainError("You have no branch to share the view with.", field="sharing")
    unknown = set(params) - VIEW_PARAMS
    if unknown:
        raise DomainError(f"Not a filter of the customer list: {', '.join(sorted(unknown))}.")
    if is_pii_search(str(params.get("q") or "")):
        raise DomainError("A search for an email, phone number or id is not saved (it is personal data).", field="name")
    clean = {key: str(value) for key, value in params.items() if value not in (None, "")}
    view = SavedView.objects.select_for_update().filter(owner=actor, name=name).first()
    created = view is None
    before = {} if view is None else {"params": view.params, "sharing": view.sharing}
    view = view or SavedView(owner=actor, name=name)
    view.params = clean
    view.sharing = sharing
    view.branch_id = actor.branch_id if sharing == SavedView.Sharing.BRANCH else None
    view.save()
    changes = {key: [before.get(key), value] for key, value in (("params", clean), ("sharing", sharing))}
    record_audit_event(
        actor=actor,
        action="saved_view.created" if created else "saved_view.updated",
        target=view,
        changes=changes,
        metadata={"name": name},
    )
    return view


@transaction.atomic
def delete_view(*, actor: User, view: SavedView) -> None:
    """Only the owner deletes a view (a preference, not a bank record); whoever pinned it loses the pin."""
    if view.owner_id != actor.pk:
        raise PermissionDenied("Only the person who saved a view may delete it.")
    record_audit_event(
        actor=actor, action="saved_view.deleted", target=view, metadata={"name": view.name, "params": view.params}
    )
    view.delete()


@transaction.atomic
def pin_view(*, actor: User, view: SavedView, pinned: bool) -> SavedView:
    """Pin a view the actor may open on their own dashboard, or unpin it."""
    if pinned:
        view.pinned_by.add(actor)
    else:
        view.pinned_by.remove(actor)
    record_audit_event(actor=actor, action="saved_view.pinned" if pinned else "saved_view.unpinned", target=view)
    return view


# --- bulk actions on the customer list ------------------------------------------------------

BULK_LIMIT = 200  # rows a person ticks on a list; more is an import's job


def _selected(actor: User, customer_ids: Iterable[int]) -> list[Customer]:
    ids = sorted(set(customer_ids))
    if not ids:
        raise DomainError("Select at least one customer.", field="customer")
    if len(ids) > BULK_LIMIT:
        raise DomainError(f"Select at most {BULK_LIMIT} customers at a time.", field="customer")
    customers = list(visible_customers(user=actor).filter(pk__in=ids).order_by("pk"))
    if len(customers) != len(ids):
        # A row the actor may not see (tampered form, or moved meanwhile): nothing is written.
        raise NotFound("No such customer.")
    return customers


@transaction.atomic
def create_tasks_for(
    *,
    actor: User,
    customer_ids: Iterable[int],
    title: str,
    due_at: dt.datetime,
    assignee: User | None = None,
    priority: int = Task.Priority.NORMAL,
) -> list[Task]:
    """One task per selected customer, through create_task (its checks and audit event each),
    all or none: a customer the assignee may not hold refuses the whole batch."""
    ensure_can_edit(actor)
    tasks = [
        create_task(
            actor=actor, customer=customer, assignee=assignee or actor, title=title, due_at=due_at, priority=priority
        )
        for customer in _selected(actor, customer_ids)
    ]
    record_audit_event(
        actor=actor,
        action="tasks.bulk_created",
        metadata={"tasks": [task.pk for task in tasks], "assignee": (assignee or actor).pk},
    )
    return tasks


@transaction.atomic
def propose_selected_assignment(
    *, actor: User, customer_ids: Iterable[int], manager: User, reason: str = ""
) -> ChangeRequest:
    """Propose giving the selected customers to a colleague (four eyes, apps/customers/four_eyes.py):
    nothing moves until a second person who could make the move approves; assign_customers then
    applies its rule (administrators and branch managers, within the branch), checked at once by
    the proposal's dry run."""
    customers = _selected(actor, customer_ids)
    return propose_reassignment(
        actor=actor,
        customer_ids=[c.pk for c in customers],
        manager=manager,
        reason=reason or "Assigned from the customer list",
    )


@transaction.atomic
def open_opportunities_for(
    *,
    actor: User,
    customer_ids: Iterable[int],
    product: Product,
    amount: Decimal,
    currency: str,
    expected_close: dt.date,
) -> list[Opportunity]:
    """ "Add to opportunity": one opportunity per selected customer, owned by the actor, through
    the opportunities service (its checks, one audit event each), all or none."""
    customers = _selected(actor, customer_ids)
    return open_opportunities_for_customers(
        actor=actor,
        customer_ids=[c.pk for c in customers],
        product=product,
        amount=amount,
        currency=currency,
        expected_close=expected_close,
    )
