"""Portfolio pages (mounted at /portfolio/): administrators and branch managers move customers.

Each move is two steps on the same URL: the form posts a preview (what moves: customers, their
open tasks, their alerts; nothing changes), and the preview's "Confirm" posts it again with
`confirm` and the preview's fingerprint, which performs the move (apps.workspace.portfolio).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import Conflict
from apps.core.http import domain_errors_on
from apps.customers.forms import BulkAssignForm, TransferPortfolioForm, manager_label
from apps.customers.visibility import can_manage_portfolios, portfolio_managers
from apps.identity.step_up import step_up_refusal
from apps.workspace.portfolio import (
    customers_of,
    customers_to_assign,
    move_preview,
)
from apps.workspace.portfolio_four_eyes import (
    pending_portfolio_changes,
    propose_bulk_assignment,
    propose_portfolio_transfer,
)

if TYPE_CHECKING:
    from apps.customers.models import Customer
    from apps.identity.models import User


def _portfolio_user(request: HttpRequest) -> None:
    if not can_manage_portfolios(request.user):
        raise PermissionDenied("Only administrators and branch managers manage portfolios.")


def _render_portfolio(request: HttpRequest, *, status: int = 400, **forms: object) -> HttpResponse:
    managers = portfolio_managers(user=request.user)
    context = {
        "managers": managers,
        "assign_form": BulkAssignForm(managers=managers),
        "transfer_form": TransferPortfolioForm(managers=managers),
        # Four eyes: transfers proposed and not yet approved, where they will apply.
        "pending": pending_portfolio_changes(user=request.user),
        **forms,
    }
    return render(request, "workspace/portfolio.html", context, status=status)


def _preview_or_move(
    request: HttpRequest,
    *,
    form: Any,
    form_name: str,
    customers: QuerySet[Customer],
    to_manager: User,
    move: Callable[[str], str],
    action: str,
    title: str,
) -> HttpResponse:
    """The two steps of a move on one URL.

    Without `confirm`, the preview of what would move. With it, `move(fingerprint)` makes the
    move (or proposes it) and returns the message for the portfolio page; a book that changed
    since the preview (Conflict) gets the fresh preview with the warning, and a refused move
    the portfolio page with the form's errors.
    """
    warning = ""
    if request.POST.get("confirm") == "1":
        with domain_errors_on(form):
            try:
                done = move(request.POST.get("fingerprint", ""))
            except Conflict as error:
                warning = str(error)
            else:
                messages.success(request, done)
                return redirect("portfolio:index")
        if form.errors:
            return _render_portfolio(request, **{form_name: form})
    preview = move_preview(customers=customers, to_manager=to_manager)
    context = {"form": form, "preview": preview, "action": action, "title": title, "warning": warning}
    return render(request, "workspace/portfolio_preview.html", context)


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    """Managers (branch-scoped for a branch manager) with their customer counts, and the two forms."""
    _portfolio_user(request)
    return _render_portfolio(request, status=200)


@login_required
@require_POST
def portfolio_assign(request: HttpRequest) -> HttpResponse:
    """Preview, then propose assigning every visible customer matching the filter to one manager.

    A privileged action (recent second factor, asked before the preview) under four eyes, like a
    transfer: the customers move when a second person who could make the move approves
    (apps/workspace/portfolio_four_eyes.py)."""
    _portfolio_user(request)
    if refusal := step_up_refusal(request):
        return refusal
    form = BulkAssignForm(request.POST, managers=portfolio_managers(user=request.user))
    if not form.is_valid():
        return _render_portfolio(request, assign_form=form)
    data = form.cleaned_data
    to_manager = data["to_manager"]
    customers = customers_to_assign(
        user=request.user, current=data["current_manager"], segment=data["segment"], branch=data["branch"]
    )

    def propose(fingerprint: str) -> str:
        change = propose_bulk_assignment(
            actor=request.user,
            preview=move_preview(customers=customers, to_manager=to_manager),
            filter_label=_assign_filter_label(data),
            reason=data["reason"],
            fingerprint=fingerprint,
        )
        return (
            f"Assignment proposed (request #{change.pk}): {change.summary}. "
            "The customers move when a second person approves it."
        )

    return _preview_or_move(
        request,
        form=form,
        form_name="assign_form",
        customers=customers,
        to_manager=to_manager,
        move=propose,
        action="portfolio:assign",
        title="Assign customers",
    )


def _assign_filter_label(data: dict[str, Any]) -> str:
    current = data["current_manager"]
    parts = [
        "unassigned"
        if current == "unassigned"
        else f"of {manager_label(current)}"
        if current is not None
        else "every visible customer"
    ]
    if data["segment"]:
        parts.append(f"segment {data['segment']}")
    if data["branch"]:
        parts.append(f"branch {data['branch'].code}")
    return ", ".join(parts)


@login_required
@require_POST
def portfolio_transfer(request: HttpRequest) -> HttpResponse:
    """Preview, then propose moving a whole portfolio (e.g. a manager leaving) to another manager.

    A privileged action (recent second factor, asked before the preview) under four eyes: the
    customers move when a second person who could make the move approves the proposal
    (apps/workspace/portfolio_four_eyes.py)."""
    _portfolio_user(request)
    if refusal := step_up_refusal(request):
        return refusal
    form = TransferPortfolioForm(request.POST, managers=portfolio_managers(user=request.user))
    if not form.is_valid():
        return _render_portfolio(request, transfer_form=form)
    data = form.cleaned_data

    def propose(fingerprint: str) -> str:
        change = propose_portfolio_transfer(
            actor=request.user,
            from_manager=data["from_manager"],
            to_manager=data["to_manager"],
            reason=data["reason"],
            fingerprint=fingerprint,
        )
        return (
            f"Transfer proposed (request #{change.pk}): {change.summary}. "
            "The customers move when a second person approves it."
        )

    return _preview_or_move(
        request,
        form=form,
        form_name="transfer_form",
        customers=customers_of(manager=data["from_manager"]),
        to_manager=data["to_manager"],
        move=propose,
        action="portfolio:transfer",
        title=f"Transfer the portfolio of {manager_label(data['from_manager'])}",
    )
