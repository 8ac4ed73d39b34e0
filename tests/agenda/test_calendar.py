"""The week and month pages, their selector, and the private feed: what shows, for whom."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from apps.agenda.models import CalendarFeed, Meeting
from apps.agenda.selectors import calendar_page, feed_for_token, meetings_today
from apps.agenda.services import cancel_meeting, issue_calendar_feed, revoke_calendar_feed
from apps.core.errors import NotFound
from apps.core.models import AuditEvent
from apps.customers.services import assign_customer
from tests.agenda.support import a_meeting, tomorrow_at
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(manager):  # type: ignore[no-untyped-def]
    return CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lowther")


def _days_with(page, what):  # type: ignore[no-untyped-def]
    return {day.date: [item.pk for item in getattr(day, what)] for day in page.days if getattr(day, what)}


def test_the_week_shows_my_meetings_and_tasks_on_their_days(manager, other_manager, customer):
    meeting = a_meeting(manager, customer)
    task = TaskFactory(customer=customer, assignee=manager, due_at=tomorrow_at(16))
    theirs = CustomerFactory(assigned_to=other_manager)
    a_meeting(other_manager, theirs)

    page = calendar_page(user=manager, view="week", anchor=timezone.localdate() + dt.timedelta(days=1))

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert _days_with(page, "meetings") == {tomorrow: [meeting.pk]}
    assert _days_with(page, "tasks") == {tomorrow: [task.pk]}
    assert len(page.days) == 7 and page.first.weekday() == 0
    assert page.following - page.previous == dt.timedelta(days=14)


def test_an_attendee_sees_the_meeting_and_a_cancelled_one_leaves(manager, branch_manager, customer):
    meeting = a_meeting(manager, customer, attendees=[branch_manager])
    anchor = timezone.localdate() + dt.timedelta(days=1)

    assert _days_with(calendar_page(user=branch_manager, view="week", anchor=anchor), "meetings")
    cancel_meeting(actor=manager, meeting=meeting)
    assert not _days_with(calendar_page(user=branch_manager, view="week", anchor=anchor), "meetings")


def test_the_month_covers_whole_weeks_and_marks_days_outside_it(manager):
    page = calendar_page(user=manager, view="month", anchor=dt.date(2026, 2, 11))

    assert page.first == dt.date(2026, 1, 26) and page.last == dt.date(2026, 3, 1)
    assert len(page.weeks) == 5 and all(len(week) == 7 for week in page.weeks)
    assert [day.in_month for day in page.days].count(True) == 28
    assert page.previous == dt.date(2026, 1, 1) and page.following == dt.date(2026, 3, 1)


def test_today_comes_from_the_business_date(manager, settings):
    settings.FINPULSE_BUSINESS_DATE = "2026-03-04"

    page = calendar_page(user=manager, view="week")

    assert page.today == dt.date(2026, 3, 4)
    assert [day.date for day in page.days if day.is_today] == [dt.date(2026, 3, 4)]


def test_a_meeting_whose_customer_left_my_book_leaves_my_calendar(manager, other_manager, customer, settings):
    meeting = a_meeting(manager, customer)
    settings.FINPULSE_BUSINESS_DATE = meeting.starts_at.date().isoformat()
    assert [m.pk for m in meetings_today(user=manager)] == [meeting.pk]

    assign_customer(actor=None, customer=customer, manager=other_manager, reason="Moved")

    assert meetings_today(user=manager) == []


@pytest.mark.parametrize("meetings", [1, 12])
def test_the_calendar_pages_queries_stay_flat(client, manager, customer, meetings, django_assert_max_num_queries):
    for hour in range(meetings):
        a_meeting(
            manager,
            customer,
            starts_at=tomorrow_at(8) + dt.timedelta(minutes=40 * hour),
            ends_at=tomorrow_at(8) + dt.timedelta(minutes=40 * hour + 30),
        )
        TaskFactory(customer=customer, assignee=manager, due_at=tomorrow_at(9))
    client.force_login(manager)
    anchor = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    for name in ("calendar:week", "calendar:month"):
        with django_assert_max_num_queries(14):
            response = client.get(reverse(name), {"date": anchor})
        assert response.status_code == 200
        assert response.content.decode().count("Deposit review") == meetings * (2 if name == "calendar:month" else 1)


def test_the_pages_navigate_and_refuse_a_bad_date_gently(client, manager, customer):
    a_meeting(manager, customer)
    client.force_login(manager)

    week = client.get(reverse("calendar:week"), {"date": "2026-02-11"})
    bad = client.get(reverse("calendar:month"), {"date": "31-31-2026"})

    assert 'href="/calendar/?date=2026-02-02"' in week.content.decode()  # previous week's Monday
    assert 'href="/calendar/?date=2026-02-16"' in week.content.decode()
    assert bad.status_code == 200 and "not understood" in bad.content.decode()


def test_scheduling_from_the_page_and_bad_input_stays_on_the_form(client, manager, customer):
    client.force_login(manager)
    url = reverse("calendar:meeting_new", args=[customer.pk])
    fields = {
        "title": "Mortgage options",
        "starts_at": tomorrow_at(10).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": tomorrow_at(11).strftime("%Y-%m-%dT%H:%M"),
    }

    bad = client.post(url, {**fields, "video_url": "ftp://x.example/"})
    assert bad.status_code == 200 and not Meeting.objects.exists()
    assert "errorlist" in bad.content.decode()
    no_place = client.post(url, fields)
    assert "Give a place or a video call link." in no_place.content.decode()

    response = client.post(url, {**fields, "video_url": "https://meet.bank.example/r/1"})

    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert meeting.organiser == manager and meeting.customer == customer
    detail = client.get(meeting.get_absolute_url())
    assert "Mortgage options" in detail.content.decode() and "Ada Lowther" in detail.content.decode()


def test_a_compliance_officer_cannot_open_the_scheduling_form(client, compliance_officer, customer):
    client.force_login(compliance_officer)

    response = client.get(reverse("calendar:meeting_new", args=[customer.pk]))

    assert response.status_code == 403


# -- the private feed --------------------------------------------------------------------------


def _feed(client, token):  # type: ignore[no-untyped-def]
    return client.get(reverse("calendar:feed", args=[token]))


def test_the_feed_carries_my_meetings_and_tasks_and_no_other_personal_data(client, manager, customer):
    meeting = a_meeting(manager, customer, agenda="Bring the statements")
    TaskFactory(customer=customer, assignee=manager, title="Send the rate sheet", due_at=tomorrow_at(16))
    _, token = issue_calendar_feed(actor=manager, user=manager)

    response = _feed(client, token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert str(events[meeting.uid]["SUMMARY"]) == "Deposit review"
    assert "Ada Lowther" in str(events[meeting.uid]["DESCRIPTION"])
    task_event = next(event for uid, event in events.items() if uid.startswith("task-"))
    assert str(task_event["SUMMARY"]) == "Task: Send the rate sheet"
    assert task_event.decoded("DTSTART") == tomorrow_at(16).date()
    body = response.content.decode()
    for pii in (customer.email, customer.phone, customer.national_id, manager.email):
        assert pii not in body
    read = AuditEvent.objects.get(action="calendar_feed.read")
    assert read.actor_id == manager.pk and read.metadata == {"meetings": 1, "tasks": 1}


def test_a_customer_who_left_the_book_leaves_the_feed(client, manager, other_manager, customer):
    a_meeting(manager, customer)
    TaskFactory(customer=customer, assignee=manager, due_at=tomorrow_at(16))
    _, token = issue_calendar_feed(actor=manager, user=manager)

    assign_customer(actor=None, customer=customer, manager=other_manager, reason="Moved")
    response = _feed(client, token)

    assert response.status_code == 200
    assert "Ada Lowther" not in response.content.decode()
    assert not Calendar.from_ical(response.content).walk("VEVENT")


def test_rotating_or_revoking_stops_the_old_address(client, manager):
    _, first = issue_calendar_feed(actor=manager, user=manager)
    _, second = issue_calendar_feed(actor=manager, user=manager)

    assert _feed(client, first).status_code == 404
    assert _feed(client, second).status_code == 200
    revoke_calendar_feed(actor=manager, user=manager)
    assert _feed(client, second).status_code == 404
    assert _feed(client, "not-a-token").status_code == 404
    with pytest.raises(NotFound):
        feed_for_token(token=second)
    assert set(AuditEvent.objects.filter(action__startswith="calendar_feed.").values_list("action", flat=True)) >= {
        "calendar_feed.issued",
        "calendar_feed.rotated",
        "calendar_feed.revoked",
    }
    assert not CalendarFeed.objects.filter(token_hash__in=[first, second]).exists()  # stored hashed


def test_a_deactivated_users_feed_stops(client, manager):
    _, token = issue_calendar_feed(actor=manager, user=manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    assert _feed(client, token).status_code == 404


def test_feed_reads_are_rate_limited(client, manager, settings):
    settings.FINPULSE_CALENDAR_FEED_READS_PER_HOUR = 2
    _, token = issue_calendar_feed(actor=manager, user=manager)
    from django.core.cache import cache

    cache.clear()
    statuses = [_feed(client, token).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert AuditEvent.objects.filter(action="calendar_feed.read").count() == 2


def test_the_settings_page_shows_the_address_once(client, manager):
    client.force_login(manager)
    url = reverse("calendar:feed_settings")

    issued = client.post(url, {"action": "issue"})
    token = issued.content.decode().split("/calendar/feed/")[1].split(".ics")[0]
    again = client.get(url)

    assert _feed(client, token).status_code == 200
    assert token not in again.content.decode()
    assert "active since" in again.content.decode()
    revoked = client.post(url, {"action": "revoke"}, follow=True)
    assert "no active feed address" in revoked.content.decode()
    assert _feed(client, token).status_code == 404


def test_the_dashboard_lists_todays_meetings_in_a_slot(client, manager, customer, settings):
    meeting = a_meeting(manager, customer, title="Coffee with Ada")
    settings.FINPULSE_BUSINESS_DATE = timezone.localdate(meeting.starts_at).isoformat()
    client.force_login(manager)

    dashboard = client.get(reverse("workspace:dashboard"))
    slot = client.get(reverse("calendar:today"), HTTP_HX_REQUEST="true")
    page = client.get(reverse("calendar:today"))

    assert f'hx-get="{reverse("calendar:today")}"' in dashboard.content.decode()
    assert "Coffee with Ada" in slot.content.decode() and "<html" not in slot.content.decode()
    assert reverse("calendar:meeting", args=[meeting.pk]) in slot.content.decode()
    assert "Coffee with Ada" in page.content.decode() and "<html" in page.content.decode()
