"""A manager's alerts: list, acknowledge, snooze, dismiss. Thin: selectors read, services write."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.alerts.forms import AcknowledgeForm, AlertFilterForm, DismissForm, SnoozeForm
from apps.alerts.models import Alert
from apps.alerts.selectors import alert_for_user, my_alerts
from apps.alerts.services import acknowledge_alert, dismiss_alert, snooze_alert
from apps.core.business_date import business_today
from apps.core.http import domain_errors_on

PAGE_SIZE = 25
URGENT_DAYS = 1  # due today or tomorrow: shown in the danger colour


def _alert(request: HttpRequest, alert_id: int) -> Alert:
    return alert_for_user(user=request.user, alert_id=alert_id)


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    filters = AlertFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    chosen = {name: chosen.get(name, "") for name in ("status", "rule", "customer")}
    page = Paginator(my_alerts(user=request.user, **chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    today = business_today()
    for alert in page:
        alert.due_text = alert.when(today)
        alert.is_urgent = alert.due_on is not None and alert.due_on <= today + dt.timedelta(days=URGENT_DAYS)
        alert.overdue = alert.is_overdue(today)
    # The pager keeps the filters: page 2 of "maturities" is still maturities.
    query = urlencode({name: value for name, value in chosen.items() if value})
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "snooze_form": SnoozeForm(),
        "dismiss_form": DismissForm(),
    }
    return render(request, "alerts/list.html", context)


def _handle(request: HttpRequest, alert_id: int, form_class: type[forms.Form], action) -> HttpResponse:  # type: ignore[no-untyped-def]
    alert = _alert(request, alert_id)
    form = form_class(request.POST)
    if form.is_valid():
        with domain_errors_on(form):
            action(actor=request.user, alert=alert, **form.cleaned_data)
            return redirect("alerts:list")
    return render(request, "alerts/_action_error.html", {"alert": alert, "form": form}, status=400)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _handle(request, alert_id, AcknowledgeForm, acknowledge_alert)


@login_required
@require_POST
def alert_snooze(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _handle(request, alert_id, SnoozeForm, snooze_alert)


@login_required
@require_POST
def alert_dismiss(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _handle(request, alert_id, DismissForm, dismiss_alert)
