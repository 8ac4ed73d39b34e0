"""The pipeline pages: the kanban board, a new opportunity, one opportunity, moves and closes.

Moves are plain forms (no script needed): with htmx they post in place and the board comes
back re-read through the selector; without it the browser follows the redirect to the board.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError
from apps.core.http import domain_errors_on, refuse_read_only
from apps.customers.models import Customer
from apps.customers.visibility import customer_for_user, may_edit_customers, visible_customers
from apps.opportunities.forms import (
    BoardFilterForm,
    ChangeOpportunityForm,
    CloseForm,
    MoveForm,
    NewOpportunityForm,
    OpportunityForm,
)
from apps.opportunities.models import Opportunity
from apps.opportunities.selectors import board, board_stages, opportunity_for_user
from apps.opportunities.services import close_opportunity, create_opportunity, move_opportunity, update_opportunity


def _board_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    filters = BoardFilterForm(request.GET or None)
    mine = bool(filters.is_valid() and filters.cleaned_data["mine"])
    columns = board(user=request.user, mine_only=mine)
    open_stages = [column.stage for column in columns if not column.stage.is_closing]
    return {
        "columns": columns,
        "open_stages": open_stages,
        "mine": mine,
        "can_edit": may_edit_customers(request.user),
        **extra,
    }


def _board_response(request: HttpRequest, **extra: Any) -> HttpResponse:
    template = "opportunities/_board.html" if request.htmx else "opportunities/board.html"
    return render(request, template, _board_context(request, **extra))


@login_required
@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    return _board_response(request)


def _customer_by_number(request: HttpRequest, number: str) -> Customer | None:
    return visible_customers(user=request.user).filter(external_id=number.strip()).first()


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_new(request: HttpRequest) -> HttpResponse:
    """A new opportunity from the board, on one of my customers named by number."""
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = NewOpportunityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        customer = _customer_by_number(request, data.pop("customer"))
        if customer is None:
            form.add_error("customer", _("No customer of yours has this number."))
        else:
            with domain_errors_on(form):
                opportunity = create_opportunity(actor=request.user, customer=customer, **data)
                messages.success(request, _("Opportunity opened."))
                return redirect(opportunity.get_absolute_url())
    return render(request, "opportunities/new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def customer_opportunity_new(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A new opportunity on this customer (from their page); `?product=` preselects a product."""
    customer = customer_for_user(user=request.user, customer_id=customer_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    initial = {"product": request.GET.get("product"), "currency": request.GET.get("currency") or "GBP"}
    form = OpportunityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            opportunity = create_opportunity(actor=request.user, customer=customer, **form.cleaned_data)
            messages.success(request, _("Opportunity opened."))
            return redirect(opportunity.get_absolute_url())
    return render(request, "opportunities/new.html", {"form": form, "customer": customer})


def _detail_context(request: HttpRequest, opportunity: Opportunity, **extra: Any) -> dict[str, Any]:
    initial = {
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "probability": opportunity.probability,
        "expected_close": opportunity.expected_close,
        "next_step": opportunity.next_step,
    }
    return {
        "opportunity": opportunity,
        "stages": board_stages(),
        "change_form": ChangeOpportunityForm(initial=initial),
        "close_form": CloseForm(),
        "can_edit": may_edit_customers(request.user),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """One opportunity: its figures, the stages it can move to, and the change form (POST)."""
    opportunity = opportunity_for_user(user=request.user, opportunity_id=opportunity_id)
    if request.method == "GET":
        return render(request, "opportunities/detail.html", _detail_context(request, opportunity))
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = ChangeOpportunityForm(request.POST)
    if form.is_valid():
        with domain_errors_on(form):
            update_opportunity(actor=request.user, opportunity=opportunity, **form.cleaned_data)
            messages.success(request, _("Opportunity updated."))
            return redirect(opportunity.get_absolute_url())
    context = _detail_context(request, opportunity, change_form=form)
    return render(request, "opportunities/detail.html", context, status=400)


def _after_change(request: HttpRequest, opportunity: Opportunity, message: str) -> HttpResponse:
    """htmx: the board again, read through the selector (the page is told, `opportunity-moved`);
    a plain form: back to the board or the opportunity, with the message."""
    if request.htmx:
        response = _board_response(request, notice=message)
        response["HX-Trigger"] = "opportunity-moved"
        return response
    messages.success(request, message)
    if request.POST.get("place") == "detail":
        return redirect(opportunity.get_absolute_url())
    return redirect(reverse("opportunities:board"))


def _refused(request: HttpRequest, opportunity: Opportunity, error: str) -> HttpResponse:
    if request.htmx:
        return _board_response(request, error=error, error_for=opportunity.pk)
    messages.error(request, error)
    if request.POST.get("place") == "detail":
        return redirect(opportunity.get_absolute_url())
    return redirect(reverse("opportunities:board"))


def _form_error(form: Any) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


@login_required
@require_POST
def opportunity_move(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = opportunity_for_user(user=request.user, opportunity_id=opportunity_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _refused(request, opportunity, _form_error(form) or _("Choose a stage."))
    stage = form.cleaned_data["stage"]
    try:
        move_opportunity(actor=request.user, opportunity=opportunity, stage=stage, reason=form.cleaned_data["reason"])
    except DomainError as error:
        return _refused(request, opportunity, error.message)
    return _after_change(request, opportunity, _("Moved to %(stage)s.") % {"stage": stage.name})


@login_required
@require_POST
def opportunity_close(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = opportunity_for_user(user=request.user, opportunity_id=opportunity_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _refused(request, opportunity, _form_error(form))
    won = form.cleaned_data["outcome"] == "won"
    try:
        close_opportunity(actor=request.user, opportunity=opportunity, won=won, reason=form.cleaned_data["reason"])
    except DomainError as error:
        return _refused(request, opportunity, error.message)
    return _after_change(request, opportunity, _("Marked as won.") if won else _("Marked as lost."))
