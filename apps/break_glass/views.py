"""Break-glass page (mounted at /break-glass/): ask for a customer outside one's book."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.break_glass.forms import BreakGlassRequestForm
from apps.break_glass.selectors import active_grants, waiting_requests
from apps.break_glass.services import may_request_break_glass, request_break_glass
from apps.core.http import domain_errors_on


@login_required
@require_http_methods(["GET", "POST"])
def break_glass_request(request: HttpRequest) -> HttpResponse:
    """The form, the user's grants in force and their requests waiting for approval."""
    if not may_request_break_glass(request.user):
        raise PermissionDenied("Break-glass access is for relationship and branch managers.")
    form = BreakGlassRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            change = request_break_glass(actor=request.user, **form.cleaned_data)
            messages.success(
                request, f"Request #{change.pk} sent: it opens the customer once a second person approves it."
            )
            return redirect("break_glass:request")
    context = {
        "form": form,
        "grants": active_grants(user=request.user),
        "waiting": waiting_requests(user=request.user),
        "hours": settings.FINPULSE_BREAK_GLASS_HOURS,
    }
    return render(request, "break_glass/request.html", context, status=400 if form.errors else 200)
