"""Calendar pages: week and month grids, meetings, and the private feed. Thin: selectors read,
services write; a meeting on a customer outside the viewer's book is a 404."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.agenda import ics
from apps.agenda.forms import CalendarNavForm, LogMeetingForm, MeetingForm
from apps.agenda.models import Meeting
from apps.agenda.selectors import (
    active_feed,
    calendar_page,
    feed_document,
    feed_for_token,
    meeting_attendee_choices,
    meeting_for_user,
    meetings_today,
)
from apps.agenda.services import (
    cancel_meeting,
    issue_calendar_feed,
    log_meeting,
    record_feed_read,
    reschedule_meeting,
    revoke_calendar_feed,
    schedule_meeting,
)
from apps.core.errors import DomainError
from apps.core.http import domain_errors_on, refuse_read_only
from apps.customers.visibility import customer_for_user, may_edit_customers


def _grid(request: HttpRequest, view: str) -> HttpResponse:
    nav = CalendarNavForm(request.GET or None)
    anchor = nav.cleaned_data["date"] if nav.is_valid() else None
    page = calendar_page(user=request.user, view=view, anchor=anchor)
    return render(request, "agenda/calendar.html", {"page": page, "bad_date": bool(request.GET) and not nav.is_valid()})


@login_required
@require_GET
def week(request: HttpRequest) -> HttpResponse:
    return _grid(request, "week")


@login_required
@require_GET
def month(request: HttpRequest) -> HttpResponse:
    return _grid(request, "month")


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """The user's meetings on the business day: the dashboard's slot (htmx) or a page."""
    template = "agenda/_today.html" if request.htmx else "agenda/today.html"
    return render(request, template, {"meetings": meetings_today(user=request.user)})


def _form_context(customer: Any, form: MeetingForm, meeting: Meeting | None = None) -> dict[str, Any]:
    return {"customer": customer, "form": form, "meeting": meeting}


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_for_user(user=request.user, customer_id=customer_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = MeetingForm(request.POST or None, attendees=meeting_attendee_choices(customer=customer))
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            meeting = schedule_meeting(actor=request.user, customer=customer, **form.cleaned_data)
            messages.success(request, _("Meeting scheduled; the invitation is on its way."))
            return redirect(meeting)
    return render(request, "agenda/meeting_form.html", _form_context(customer, form))


@login_required
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for_user(user=request.user, meeting_id=meeting_id)
    attendees = list(meeting.attendees.order_by("first_name", "last_name", "username"))
    is_organiser = meeting.organiser_id == request.user.pk
    on_it = is_organiser or any(person.pk == request.user.pk for person in attendees)
    can_edit = may_edit_customers(request.user)
    context = {
        "meeting": meeting,
        "attendees": attendees,
        "can_change": can_edit and is_organiser and meeting.is_open,
        "can_log": can_edit and on_it and meeting.is_open,
    }
    return render(request, "agenda/meeting_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for_user(user=request.user, meeting_id=meeting_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    initial = {
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "location": meeting.location,
        "video_url": meeting.video_url,
        "agenda": meeting.agenda,
        "attendees": list(meeting.attendees.values_list("pk", flat=True)),
        "invite_customer": meeting.customer_invited,
    }
    form = MeetingForm(
        request.POST or None, attendees=meeting_attendee_choices(customer=meeting.customer), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            reschedule_meeting(actor=request.user, meeting=meeting, **form.cleaned_data)
            messages.success(request, _("Meeting updated; everyone on it gets the new version."))
            return redirect(meeting)
    return render(request, "agenda/meeting_form.html", _form_context(meeting.customer, form, meeting))


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for_user(user=request.user, meeting_id=meeting_id)
    try:
        cancel_meeting(actor=request.user, meeting=meeting)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Meeting cancelled; everyone on it has been told."))
    return redirect(meeting)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_log(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for_user(user=request.user, meeting_id=meeting_id)
    refuse_read_only(may_edit=may_edit_customers(request.user))
    form = LogMeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with domain_errors_on(form):
            log_meeting(actor=request.user, meeting=meeting, **form.cleaned_data)
            messages.success(request, _("Meeting logged on the customer's timeline."))
            return redirect(meeting)
    return render(request, "agenda/meeting_log.html", {"meeting": meeting, "form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    """The user's own feed: issue or rotate (the URL is shown once, on this response) or revoke."""
    feed_url = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "issue":
                token = issue_calendar_feed(actor=request.user, user=request.user)[1]
                feed_url = request.build_absolute_uri(reverse("calendar:feed", args=[token]))
            elif action == "revoke":
                revoke_calendar_feed(actor=request.user, user=request.user)
                messages.success(request, _("Your calendar feed URL no longer works."))
                return redirect("calendar:feed_settings")
            else:
                messages.error(request, _("Unknown action."))
        except DomainError as error:
            messages.error(request, error.message)
    return render(request, "agenda/feed_settings.html", {"feed": active_feed(user=request.user), "feed_url": feed_url})


def _over_feed_limit(token: str) -> bool:
    """Count this read of the feed; True past FINPULSE_CALENDAR_FEED_READS_PER_HOUR (per token)."""
    key = "finpulse:calendar:feed:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count is not None and count > settings.FINPULSE_CALENDAR_FEED_READS_PER_HOUR


@never_cache
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private iCalendar feed: the token in the URL is the credential (no session)."""
    if _over_feed_limit(token):
        response = HttpResponse("Too many requests for this calendar feed.", status=429, content_type="text/plain")
        response["Retry-After"] = "3600"
        return response
    subscription = feed_for_token(token=token)
    document, meetings, tasks = feed_document(user=subscription.user)
    record_feed_read(feed=subscription, meetings=meetings, tasks=tasks)
    response = HttpResponse(document, content_type=f"{ics.CONTENT_TYPE}; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="finpulse.ics"'
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
