"""The bell, the list and mark-as-read, and each user's channel choices. Thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.fragments import render_kept
from apps.core.http import domain_errors_on
from apps.notifications.bell import bell_contents
from apps.notifications.forms import PreferencesForm
from apps.notifications.selectors import (
    notification_for_user,
    preference_matrix,
    unread_count,
    user_notifications,
)
from apps.notifications.services import (
    mark_all_notifications_read,
    mark_notification_read,
    set_notification_preferences,
)


def _bell(request: HttpRequest) -> HttpResponse:
    # Kept per user in the cache until a notification service changes it (apps/notifications/bell.py).
    contents = bell_contents(user=request.user)
    if not contents["latest"]:
        # Nothing unread: the same bytes for everyone in this language (no form, no token), kept
        # in this process rendered (apps/core/fragments.py render_kept, decision 157).
        return HttpResponse(render_kept("notifications/_bell.html", {"count": 0, "latest": ()}))
    return render(request, "notifications/_bell.html", contents)


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    return _bell(request)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(user_notifications(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "unread": unread_count(user=request.user)})


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = notification_for_user(user=request.user, notification_id=notification_id)
    mark_notification_read(user=request.user, notification=notification)
    if request.headers.get("HX-Request") == "true":
        return _bell(request)
    # The notification's own path on this host: a link built for email (FINPULSE_SITE_URL)
    # must still open the customer when the app is reached under another name.
    target = request.POST.get("next") or notification.path
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    mark_all_notifications_read(user=request.user)
    if request.headers.get("HX-Request") == "true":
        return _bell(request)
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            set_notification_preferences(actor=request.user, user=request.user, chosen=form.chosen())
            return redirect("notifications:preferences")
    return render(
        request, "notifications/preferences.html", {"form": form, "rows": preference_matrix(user=request.user)}
    )
