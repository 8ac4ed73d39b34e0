"""Portfolio pages (mounted at /portfolio/): administrators and branch managers move whole books."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.http import domain_errors_on
from apps.customers.forms import BulkAssignForm, TransferPortfolioForm
from apps.customers.services import assign_customers, transfer_portfolio
from apps.customers.visibility import can_manage_portfolios, portfolio_managers, visible_customers


def _portfolio_user(request: HttpRequest) -> None:
    if not can_manage_portfolios(request.user):
        raise PermissionDenied("Only administrators and branch managers manage portfolios.")


def _render_portfolio(request: HttpRequest, *, status: int = 400, **forms: object) -> HttpResponse:
    managers = portfolio_managers(user=request.user)
    context = {
        "managers": managers,
        "assign_form": BulkAssignForm(managers=managers),
        "transfer_form": TransferPortfolioForm(managers=managers),
        **forms,
    }
    return render(request, "customers/portfolio.html", context, status=status)


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    """Managers (branch-scoped for a branch manager) with their customer counts, and the two forms."""
    _portfolio_user(request)
    return _render_portfolio(request, status=200)


@login_required
@require_POST
def portfolio_assign(request: HttpRequest) -> HttpResponse:
    """Assign every visible customer matching the filter to one manager, in one service call."""
    _portfolio_user(request)
    form = BulkAssignForm(request.POST, managers=portfolio_managers(user=request.user))
    if form.is_valid():
        customers = visible_customers(user=request.user)
        current = form.cleaned_data["current_manager"]
        if current == "unassigned":
            customers = customers.filter(primary_manager__isnull=True)
        elif current is not None:
            customers = customers.filter(primary_manager=current)
        if form.cleaned_data["segment"]:
            customers = customers.filter(segment=form.cleaned_data["segment"])
        if form.cleaned_data["branch"]:
            customers = customers.filter(branch=form.cleaned_data["branch"])
        with domain_errors_on(form):
            moved = assign_customers(
                actor=request.user,
                customer_ids=list(customers.values_list("pk", flat=True)),
                manager=form.cleaned_data["to_manager"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, f"{moved} customer(s) assigned to {form.cleaned_data['to_manager']}.")
            return redirect("portfolio:index")
    return _render_portfolio(request, assign_form=form)


@login_required
@require_POST
def portfolio_transfer(request: HttpRequest) -> HttpResponse:
    """Move a whole portfolio (e.g. a manager leaving) to another manager."""
    _portfolio_user(request)
    form = TransferPortfolioForm(request.POST, managers=portfolio_managers(user=request.user))
    if form.is_valid():
        with domain_errors_on(form):
            moved = transfer_portfolio(
                actor=request.user,
                from_manager=form.cleaned_data["from_manager"],
                to_manager=form.cleaned_data["to_manager"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request,
                f"{moved} customer(s) moved from {form.cleaned_data['from_manager']} "
                f"to {form.cleaned_data['to_manager']}.",
            )
            return redirect("portfolio:index")
    return _render_portfolio(request, transfer_form=form)
