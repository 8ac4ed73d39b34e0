"""Compliance's data-subject pages: export (Art. 15, 20) and erasure (Art. 17, 18)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.http import domain_errors_on
from apps.identity.step_up import step_up_refusal
from apps.privacy.export import export_subject_data
from apps.privacy.forms import ErasureForm
from apps.privacy.four_eyes import propose_erasure
from apps.privacy.models import ErasureRequest
from apps.privacy.selectors import data_subject, erasure_requests, pending_erasures

REQUESTS_SHOWN = 200


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """Every erasure request and its outcome: refused (why), deferred (which hold, until when)."""
    rows = list(erasure_requests(user=request.user)[:REQUESTS_SHOWN])
    return render(request, "privacy/requests.html", {"requests": rows})


@login_required
@require_http_methods(["GET", "POST"])
def subject(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One data subject: export buttons, the erasure form, and this customer's past requests."""
    customer = data_subject(user=request.user, customer_id=customer_id)
    form = ErasureForm(request.POST or None)
    if request.method == "POST":
        refusal = step_up_refusal(request)  # erasure is privileged: a recent second factor
        if refusal is not None:
            return refusal
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            change = propose_erasure(
                actor=request.user,
                customer=customer,
                reference=form.cleaned_data["reference"],
                relationship_ended_on=form.cleaned_data.get("relationship_ended_on"),
            )
            messages.success(request, _("Erasure proposed: a second compliance officer must approve it."))
            return redirect("approvals:detail", change_id=change.pk)
    context = {
        "customer": customer,
        "form": form,
        "pending": pending_erasures(customer=customer),
        "requests": ErasureRequest.objects.filter(customer=customer).select_related("requested_by"),
    }
    return render(request, "privacy/subject.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def subject_export(request: HttpRequest, customer_id: int, fmt: str) -> HttpResponse:
    """The subject-access export as a JSON file or a readable HTML report (audited)."""
    customer = data_subject(user=request.user, customer_id=customer_id)
    refusal = step_up_refusal(request)  # a PII export is privileged: a recent second factor
    if refusal is not None:
        return refusal
    data = export_subject_data(actor=request.user, customer=customer, fmt=fmt)
    if fmt == "json":
        body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        # (key, value) pairs: a row's own field may be called "items" (advice), which a template's
        # `row.items` would read instead of the dict's method.
        sections = [
            (name, [list(row.items()) for row in rows]) for name, rows in data.items() if isinstance(rows, list)
        ]
        context = {"customer": customer, "profile": list(data["profile"].items()), "sections": sections}
        html = render_to_string("privacy/report.html", context)
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-subject-export.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
