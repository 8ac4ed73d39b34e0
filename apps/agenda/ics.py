"""iCalendar (RFC 5545) documents: meeting invitations (iTIP, RFC 5546) and the private feed.

Written with the `icalendar` package, never by hand. Times are written in UTC (`...Z`), which
every client reads the same way; the client shows them in its own time zone. What a document
may say about a customer is decided by the caller: invitations go only to people who may see
the customer, and the feed names only customers in its owner's book.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

if TYPE_CHECKING:
    from apps.agenda.models import Meeting
    from apps.identity.models import User

PRODID = "-//FinPulse//Calendar//EN"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
CONTENT_TYPE = "text/calendar"


def _person(user: User) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["cn"] = vText(user.get_full_name() or user.get_username())
    return address


def _calendar(method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def meeting_event(
    meeting: Meeting,
    *,
    customer_label: str,
    link: str,
    attendees: Sequence[User] = (),
    cancelled: bool = False,
    stamp: dt.datetime | None = None,
) -> Event:
    """One VEVENT for a meeting; `customer_label` is what the reader may be told of the customer."""
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", _utc(stamp or timezone.now()))
    event.add("dtstart", _utc(meeting.starts_at))
    event.add("dtend", _utc(meeting.ends_at))
    event.add("summary", meeting.title)
    lines = [f"Customer: {customer_label}"]
    if meeting.video_url:
        lines.append(f"Video call: {meeting.video_url}")
    if meeting.agenda:
        lines += ["", meeting.agenda]
    if link:
        lines += ["", f"In FinPulse: {link}"]
    event.add("description", "\n".join(lines))
    if meeting.location:
        event.add("location", meeting.location)
    elif meeting.video_url:
        event.add("location", meeting.video_url)
    if meeting.video_url:
        event.add("url", meeting.video_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if attendees:
        event.add("organizer", _person(meeting.organiser))
        for person in attendees:
            address = _person(person)
            address.params["role"] = vText("CHAIR" if person.pk == meeting.organiser_id else "REQ-PARTICIPANT")
            address.params["partstat"] = vText("ACCEPTED" if person.pk == meeting.organiser_id else "NEEDS-ACTION")
            address.params["rsvp"] = vText("FALSE" if person.pk == meeting.organiser_id else "TRUE")
            event.add("attendee", address, encode=False)
    return event


def invitation(meeting: Meeting, *, method: str, customer_label: str, link: str, attendees: Sequence[User]) -> str:
    """METHOD:REQUEST (new or changed) or METHOD:CANCEL, with ORGANIZER and every ATTENDEE."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Unknown iTIP method {method!r}.")
    calendar = _calendar(method)
    calendar.add_component(
        meeting_event(
            meeting, customer_label=customer_label, link=link, attendees=attendees, cancelled=method == CANCEL
        )
    )
    return calendar.to_ical().decode()


@dataclass(frozen=True)
class TaskEntry:
    """A task as the feed shows it: an all-day entry on its due date in the bank's time zone."""

    uid: str
    title: str
    due_on: dt.date
    customer_label: str
    link: str


def feed(*, name: str, meetings: Iterable[tuple[Meeting, str, str]], tasks: Iterable[TaskEntry]) -> bytes:
    """A subscribable calendar: (meeting, customer label, link) triples and task entries."""
    calendar = _calendar()
    calendar.add("x-wr-calname", name)
    stamp = timezone.now()
    for meeting, label, link in meetings:
        calendar.add_component(meeting_event(meeting, customer_label=label, link=link, stamp=stamp))
    for task in tasks:
        event = Event()
        event.add("uid", task.uid)
        event.add("dtstamp", _utc(stamp))
        event.add("dtstart", task.due_on)
        event.add("dtend", task.due_on + dt.timedelta(days=1))
        event.add("summary", f"Task: {task.title}")
        event.add("description", f"Customer: {task.customer_label}\n\nIn FinPulse: {task.link}")
        event.add("transp", "TRANSPARENT")  # a task does not make its owner busy
        calendar.add_component(event)
    return calendar.to_ical()
