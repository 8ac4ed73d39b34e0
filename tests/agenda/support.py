"""Shared helpers for the calendar tests: a meeting tomorrow, and reading outbox invitations back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from icalendar import Calendar

from apps.agenda.models import Meeting
from apps.agenda.services import schedule_meeting
from apps.notifications.models import Kind, Notification


def tomorrow_at(hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def a_meeting(organiser: Any, customer: Any, **overrides: Any) -> Meeting:
    values: dict[str, Any] = {
        "title": "Deposit review",
        "starts_at": tomorrow_at(10),
        "ends_at": tomorrow_at(11),
        "location": "Head office, room 4",
        **overrides,
    }
    return schedule_meeting(actor=organiser, customer=customer, **values)


def invitations(meeting: Meeting) -> list[Notification]:
    return list(
        Notification.objects.filter(kind=Kind.MEETING_INVITATION, dedupe_key__contains=f"agenda.meeting:{meeting.pk}:")
        .select_related("recipient_user")
        .order_by("id")
    )


def parsed(notification: Notification) -> tuple[Calendar, Any]:
    """The calendar and its one VEVENT, parsed back by the icalendar package."""
    calendar = Calendar.from_ical(notification.payload["ics"])
    (event,) = calendar.walk("VEVENT")
    return calendar, event
