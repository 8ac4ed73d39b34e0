"""Compliance's audit-trail page (mounted at /audit/, namespace "audit"): search and CSV export.

Thin: apps.workspace.audit_trail reads and records the export. It lives in the workspace, not
in core, because searching by customer reads the customers app (core imports no other app).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.core.machine_format import in_machine_language
from apps.workspace.audit_forms import AuditSearchForm
from apps.workspace.audit_trail import audit_page, can_read_audit_trail, prepare_audit_export


def _search_form(request: HttpRequest) -> AuditSearchForm:
    """The search a compliance reader asked for; anyone else gets the 404 of a page they may not see."""
    if not can_read_audit_trail(user=request.user):
        raise Http404("No such page.")
    return AuditSearchForm(request.GET)


@login_required
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Compliance's audit trail: search by customer, actor, action and dates; newest first."""
    form = _search_form(request)
    page = None
    if form.is_valid():
        page = audit_page(user=request.user, query=form.to_query(), before=form.cleaned_data.get("before"))
    params = form.search_params() if form.is_valid() else {}
    context = {
        "form": form,
        "page": page,
        "search_query": urlencode(params),
        "next_query": urlencode({**params, "before": page.next_before}) if page and page.next_before else "",
        "is_first_page": not request.GET.get("before"),
    }
    return render(request, "core/audit_trail.html", context)


@login_required
@require_GET
def audit_trail_export(request: HttpRequest) -> HttpResponse:
    """The search as CSV; the export is recorded in the trail before the first byte is sent."""
    form = _search_form(request)
    if not form.is_valid():
        return HttpResponseBadRequest("Fix the search before exporting it.")
    lines = prepare_audit_export(user=request.user, query=form.to_query())
    response = StreamingHttpResponse(in_machine_language(lines), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response
