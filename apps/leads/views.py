"""Lead pages: the public form, the advisors' inbox and a lead's page. Thin: selectors and services.

The public form is the only page here without sign-in. It is CSRF-protected (Django's
middleware), limited per client address through the cache, and has a honeypot field; a bot
that fills the honeypot sees the same thank-you page as a person, and nothing is stored. The
answer never depends on whether the e-mail address is already known to the bank.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.audit import record_pii_reveal
from apps.core.errors import DomainError, NotFound
from apps.core.http import domain_errors_on
from apps.customers.visibility import may_edit_customers
from apps.leads import routing
from apps.leads.forms import (
    AssignForm,
    ConvertForm,
    CorrectFieldsForm,
    InboxFilterForm,
    LeadApplyForm,
    OptionalReasonForm,
    ReasonForm,
    RevealReasonForm,
)
from apps.leads.models import Lead
from apps.leads.selectors import inbox, inbox_counts, lead_for_user, lead_history, time_in_states
from apps.leads.services import (
    LeadInput,
    approve_lead,
    assign_lead,
    convert_lead,
    correct_fields,
    flag_for_review,
    reassign_lead,
    record_first_contact,
    reject_lead,
    split_name,
    start_qualification,
    submit_lead,
)
from apps.leads.state import TRANSITIONS
from apps.opportunities.selectors import OPEN_LISTED, open_opportunities_on

PAGE_SIZE = 50
S = Lead.State


# --- the public form --------------------------------------------------------------------------


def _client_key(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it
    # (behind one, the proxy must set REMOTE_ADDR; see docs/leads.md). Hashed: no address is stored.
    address = request.META.get("REMOTE_ADDR", "")
    return "finpulse:leads:form:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def _over_form_limit(request: HttpRequest) -> bool:
    """Count this submission; True when the address sent more than the hourly limit."""
    key = _client_key(request)
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count is not None and count > settings.FINPULSE_LEAD_FORM_MAX_PER_HOUR


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = LeadApplyForm(request.POST or None)
    if request.method == "POST":
        if _over_form_limit(request):
            return render(request, "leads/apply.html", {"form": form, "limited": True}, status=429)
        if form.is_bot:
            return redirect("leads:apply_thanks")  # the same answer a person gets; nothing stored
        if form.is_valid():
            data = form.cleaned_data
            branch = data.get("branch")
            try:
                submit_lead(
                    actor=None,
                    source=Lead.Source.FORM,
                    data=LeadInput(
                        inquiry=data["inquiry"],
                        full_name=data["full_name"],
                        email=data.get("email") or "",
                        phone=data.get("phone") or "",
                        branch_code=branch.code if branch else "",
                    ),
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect("leads:apply_thanks")
    return render(request, "leads/apply.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def apply_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/apply_thanks.html")


# --- the inbox ----------------------------------------------------------------------------------


@login_required
@require_GET
def inbox_view(request: HttpRequest) -> HttpResponse:
    filters = InboxFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    now = timezone.now()
    leads = inbox(
        user=request.user,
        state=chosen.get("state", ""),
        intent=chosen.get("intent", ""),
        overdue=bool(chosen.get("overdue")),
        now=now,
    )
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"lead": lead, "overdue": lead.is_overdue_at(now), "waiting": lead.first_contacted_at is None} for lead in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "leads/inbox.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "counts": inbox_counts(user=request.user, now=now),
            "query": query.urlencode(),
        },
    )


# --- one lead -----------------------------------------------------------------------------------


def _lead(request: HttpRequest, lead_id: int, *, with_details: bool = False) -> Lead:
    return lead_for_user(user=request.user, lead_id=lead_id, with_details=with_details)


def _advisors_for(lead: Lead) -> Any:
    advisors = routing.advisors().order_by("last_name", "first_name", "username")
    return advisors.filter(branch_id=lead.branch_id) if lead.branch_id else advisors


def _suggested_names(lead: Lead) -> dict[str, str]:
    """Once the manager has revealed the applicant, the form suggests the name they gave."""
    first_name, last_name = split_name(lead.full_name or "")
    return {"first_name": first_name, "last_name": last_name}


def _detail_context(request: HttpRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    user = request.user
    allowed = TRANSITIONS.get(lead.state, frozenset()) if may_edit_customers(user) else frozenset()
    may_assign = user.is_administrator or user.is_branch_manager
    transitions, corrections = lead_history(lead=lead)
    now = timezone.now()
    return {
        "lead": lead,
        "transitions": transitions,
        "corrections": corrections,
        "time_in_states": [(S(state).label, spent) for state, spent in time_in_states(lead=lead, now=now).items()],
        "overdue": lead.is_overdue_at(now),
        "can_write": may_edit_customers(user),
        "can_correct": may_edit_customers(user) and lead.state in (S.QUALIFIED, S.NEEDS_REVIEW, S.ASSIGNED),
        "can_approve": S.QUALIFIED in allowed and lead.state == S.NEEDS_REVIEW,
        "can_flag": S.NEEDS_REVIEW in allowed and lead.state == S.QUALIFIED,
        "can_requalify": S.QUALIFYING in allowed and lead.state == S.NEEDS_REVIEW,
        "can_assign": S.ASSIGNED in allowed and (may_assign or lead.assignee_id is None),
        "can_reassign": may_edit_customers(user) and may_assign and lead.state == S.ASSIGNED,
        "can_take": S.ASSIGNED in allowed and user.is_relationship_manager and not may_assign,
        "can_contact": may_edit_customers(user) and lead.state == S.ASSIGNED and lead.first_contacted_at is None,
        "can_convert": S.CONVERTED in allowed,
        "can_reject": S.REJECTED in allowed,
        "correct_form": extra.pop("correct_form", None) or CorrectFieldsForm.for_lead(lead),
        "assign_form": AssignForm(advisors=_advisors_for(lead)),
        "reveal_form": extra.pop("reveal_form", None) or RevealReasonForm(),
        "convert_form": ConvertForm(initial=_suggested_names(lead) if extra.get("revealed") else None),
        # Opportunities opened on the lead before it converts (the conversion moves them to the customer).
        "opportunities": list(open_opportunities_on(user=user, lead=lead)[:OPEN_LISTED]),
        **extra,
    }


@login_required
@require_GET
def detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    return render(request, "leads/detail.html", _detail_context(request, lead))


@login_required
@require_POST
def reveal(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Show the inquiry and contact details (decrypted for this one lead; audited)."""
    lead = _lead(request, lead_id, with_details=True)
    form = RevealReasonForm(request.POST)
    revealed = False
    if form.is_valid():
        with domain_errors_on(form):  # no reason, no reveal
            record_pii_reveal(
                actor=request.user,
                target=lead,
                fields=["inquiry", "full_name", "email", "phone"],
                reason=form.cleaned_data["reason"],
            )
            revealed = True
    context = _detail_context(request, lead, revealed=revealed, reveal_form=form)
    return render(request, "leads/detail.html", context, status=200 if revealed else 400)


def _act(
    request: HttpRequest, lead_id: int, form: Any, action: Callable[[Lead, dict[str, Any]], Any], done: str
) -> HttpResponse:
    """Validate, call the service, and come back to the lead with what happened."""
    lead = _lead(request, lead_id)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect(lead.get_absolute_url())
    try:
        action(lead, form.cleaned_data)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    if not lead_for_user_or_none(request, lead_id):
        return redirect(reverse("leads:inbox"))  # e.g. handed to someone else: no longer ours to see
    return redirect(lead.get_absolute_url())


def lead_for_user_or_none(request: HttpRequest, lead_id: int) -> Lead | None:
    try:
        return lead_for_user(user=request.user, lead_id=lead_id)
    except NotFound:
        return None


@login_required
@require_POST
def correct(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    form = CorrectFieldsForm(request.POST)
    if form.is_valid():
        try:
            correct_fields(actor=request.user, lead=lead, changes=form.changes(), note=form.cleaned_data["note"])
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Corrections saved."))
            return redirect(lead.get_absolute_url())
    return render(request, "leads/detail.html", _detail_context(request, lead, correct_form=form), status=400)


@login_required
@require_POST
def assign(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    form = AssignForm(request.POST, advisors=_advisors_for(lead))

    def do(lead: Lead, data: dict[str, Any]) -> Any:
        if lead.state == S.ASSIGNED and data.get("assignee") is not None:
            return reassign_lead(actor=request.user, lead=lead, assignee=data["assignee"], reason=data["reason"])
        return assign_lead(actor=request.user, lead=lead, assignee=data.get("assignee"), reason=data["reason"])

    return _act(request, lead_id, form, do, "Lead assigned.")


@login_required
@require_POST
def take(request: HttpRequest, lead_id: int) -> HttpResponse:
    """An advisor takes an unassigned lead of their branch."""
    return _act(
        request,
        lead_id,
        OptionalReasonForm(request.POST),
        lambda lead, data: assign_lead(actor=request.user, lead=lead, assignee=request.user, reason="Taken"),
        "The lead is yours.",
    )


@login_required
@require_POST
def approve(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _act(
        request,
        lead_id,
        OptionalReasonForm(request.POST),
        lambda lead, data: approve_lead(actor=request.user, lead=lead, reason=data["reason"]),
        "Lead approved: it is qualified.",
    )


@login_required
@require_POST
def flag(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _act(
        request,
        lead_id,
        ReasonForm(request.POST),
        lambda lead, data: flag_for_review(actor=request.user, lead=lead, reason=data["reason"]),
        "Lead sent to review.",
    )


@login_required
@require_POST
def requalify(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _act(
        request,
        lead_id,
        OptionalReasonForm(request.POST),
        lambda lead, data: start_qualification(actor=request.user, lead=lead, reason=data["reason"]),
        "The lead will be read again.",
    )


@login_required
@require_POST
def reject(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _act(
        request,
        lead_id,
        ReasonForm(request.POST),
        lambda lead, data: reject_lead(actor=request.user, lead=lead, reason=data["reason"]),
        "Lead rejected.",
    )


@login_required
@require_POST
def contacted(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _act(
        request,
        lead_id,
        OptionalReasonForm(request.POST),
        lambda lead, data: record_first_contact(actor=request.user, lead=lead),
        "First contact recorded.",
    )


@login_required
@require_POST
def convert(request: HttpRequest, lead_id: int) -> HttpResponse:
    from apps.customers.visibility import customer_for_user

    def do(lead: Lead, data: dict[str, Any]) -> Any:
        customer = customer_for_user(user=request.user, customer_id=data["customer"]) if data.get("customer") else None
        return convert_lead(actor=request.user, lead=lead, customer=customer, details=form.new_customer_details())

    form = ConvertForm(request.POST)
    return _act(request, lead_id, form, do, "Lead converted.")
