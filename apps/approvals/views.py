"""Four-eyes pages (mounted at /approvals/): the inbox, one request, approve, reject/withdraw."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.approvals.forms import DecisionForm
from apps.approvals.models import ChangeRequest
from apps.approvals.selectors import change_for_user, changes_awaiting, changes_made_by
from apps.approvals.services import approve_change, may_approve, reject_change
from apps.core.http import domain_errors_on
from apps.identity.step_up import step_up_refusal


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """What waits for this person's approval, and what they proposed."""
    context = {"awaiting": changes_awaiting(user=request.user), "mine": changes_made_by(user=request.user)}
    return render(request, "approvals/inbox.html", context)


def _render_change(
    request: HttpRequest, change: ChangeRequest, form: DecisionForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "change": change,
        "form": form,
        "can_decide": change.is_pending and may_approve(user=request.user, change=change),
        "can_withdraw": change.is_pending and change.maker_id == request.user.pk,
    }
    return render(request, "approvals/detail.html", context, status=status)


@login_required
@require_GET
def change_detail(request: HttpRequest, change_id: int) -> HttpResponse:
    change = change_for_user(user=request.user, change_id=change_id)
    return _render_change(request, change, DecisionForm())


@login_required
@require_POST
def change_approve(request: HttpRequest, change_id: int) -> HttpResponse:
    """Approving is a privileged action: a recent second factor first (apps.identity.step_up)."""
    change = change_for_user(user=request.user, change_id=change_id)
    if refusal := step_up_refusal(request):
        return refusal
    form = DecisionForm(request.POST)
    if form.is_valid():
        with domain_errors_on(form):
            approve_change(checker=request.user, change=change, note=form.cleaned_data["note"])
            messages.success(request, _("Approved and applied: %(summary)s") % {"summary": change.summary})
            return redirect("approvals:inbox")
    change.refresh_from_db()
    return _render_change(request, change, form, status=400)


@login_required
@require_POST
def change_reject(request: HttpRequest, change_id: int) -> HttpResponse:
    """A checker rejects (with a note), or the maker withdraws; nothing is applied."""
    change = change_for_user(user=request.user, change_id=change_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        with domain_errors_on(form):
            decided = reject_change(actor=request.user, change=change, note=form.cleaned_data["note"])
            messages.success(request, f"{_(str(decided.get_status_display()))}: {change.summary}")
            return redirect("approvals:inbox")
    change.refresh_from_db()
    return _render_change(request, change, form, status=400)
