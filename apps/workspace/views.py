"""The manager's "my day" page: thin, one selector call."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.workspace.day_rows import day_work
from apps.workspace.selectors import my_day, pinned_views


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    day = my_day(user=request.user)
    context = {"day": day, "work": day_work(day), "pinned_views": pinned_views(user=request.user)}
    return render(request, "workspace/dashboard.html", context)
