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
from apps.leads.forms import ConvertForm
from apps.leads.selectors import lead_for_user
from apps.opportunities.forms import (
    BoardFilterForm,
    ChangeOpportunityForm,
    CloseForm,
    MoveForm,
    NewOpportunityForm,
    OpportunityForm,
)
from apps.opportunities.models import Opportunity
from apps.opportunities.selectors import (
    Origin,
    accepted_advice_origin,
    board,
    board_stages,
    maturity_alert_origin,
    opportunity_for_user,
)
from apps.opportunities.services import (
    close_opportunity,
    convert_lead_with_opportunity,
    create_opportunity,
    move_opportunity,
    update_opportunity,
)


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


def _open_from(request: HttpRequest, origin: Origin) -> HttpResponse:
    """The new-opportunity form, started from an alert or accepted advice; the source is
    recorded on the opportunity (one open opportunity per alert or advised product)."""
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = OpportunityForm(request.POST or None, initial=origin.initial)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            opportunity = create_opportunity(
                actor=request.user,
                customer=origin.customer,
                source=origin.source,
                source_object=origin.source_object,
                **form.cleaned_data,
            )
            messages.success(request, _("Opportunity opened."))
            return redirect(opportunity.get_absolute_url())
    context = {"form": form, "customer": origin.customer, "origin": origin.label}
    return render(request, "opportunities/new.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def from_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _open_from(request, maturity_alert_origin(user=request.user, alert_id=alert_id))


@login_required
@require_http_methods(["GET", "POST"])
def from_advice(request: HttpRequest, recommendation_id: int, product_id: int) -> HttpResponse:
    origin = accepted_advice_origin(user=request.user, recommendation_id=recommendation_id, product_id=product_id)
    return _open_from(request, origin)


@login_required
@require_http_methods(["GET", "POST"])
def from_lead(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Convert a lead into a customer and an opportunity at once (the leads app's conversion)."""
    lead = lead_for_user(user=request.user, lead_id=lead_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    initial = {"amount": lead.requested_amount, "currency": lead.currency or "GBP"}
    convert_form = ConvertForm(request.POST or None)
    form = OpportunityForm(request.POST or None, initial=initial)
    if request.method == "POST" and convert_form.is_valid() and form.is_valid():
        customer = None
        customer_id = convert_form.cleaned_data.get("customer")
        if customer_id:
            customer = visible_customers(user=request.user).filter(pk=customer_id).first()
        if customer_id and customer is None:
            convert_form.add_error("customer", _("No such customer."))
        else:
            with domain_errors_on(form):
                try:
                    opportunity = convert_lead_with_opportunity(
                        actor=request.user,
                        lead=lead,
                        customer=customer,
                        details=convert_form.new_customer_details(),
                        **form.cleaned_data,
                    )
                except DomainError as error:
                    if error.field not in convert_form.fields:
                        raise
                    convert_form.add_error(error.field, error.message)
                else:
                    messages.success(request, _("Lead converted; opportunity opened."))
                    return redirect(opportunity.get_absolute_url())
    context = {"lead": lead, "convert_form": convert_form, "form": form}
    return render(request, "opportunities/from_lead.html", context)
