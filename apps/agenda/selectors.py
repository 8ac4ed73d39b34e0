"""Reads for the calendar: meetings and tasks a user may see, laid out by week and month.

Who sees a meeting: whoever may see its customer (apps.customers.visibility, the one rule).
Whose calendar it is on: its organiser's and its attendees'. A meeting whose customer left the
user's book drops off their calendar and their feed with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.agenda.models import CalendarFeed, Meeting
from apps.core.business_date import business_today
from apps.core.errors import NotFound
from apps.customers.models import Customer
from apps.customers.visibility import CustomerScope, may_hold_work_on, visible_scope
from apps.tasks.models import Task
from apps.tasks.selectors import my_open_tasks

if TYPE_CHECKING:
    from apps.identity.models import User

# What the private feed carries: recent past and the months ahead (calendar clients poll it).
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 180
WEEK_DAYS = 7


def visible_meetings(*, user: User, scope: CustomerScope | None = None) -> QuerySet[Meeting]:
    """Meetings on customers the user may see (the customer selector decides; a page that has
    decided the scope already passes it)."""
    rows = scope.rows("customer") if scope is not None else visible_scope(user=user)
    return Meeting.objects.filter(rows).select_related("customer", "organiser")


def meeting_for_user(*, user: User, meeting_id: Any) -> Meeting:
    """One meeting on a customer the user may see; missing and forbidden look alike (404)."""
    try:
        return visible_meetings(user=user).get(pk=int(meeting_id))
    except (Meeting.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such meeting.") from None


def my_meetings(
    *, user: User, start: dt.datetime, end: dt.datetime, scope: CustomerScope | None = None
) -> QuerySet[Meeting]:
    """Meetings the user organises or attends that overlap [start, end), on customers they see.

    Cancelled meetings are left out: their cancellation went to everyone's mailbox.
    """
    attending = Meeting.attendees.through.objects.filter(user_id=user.pk).values("meeting_id")
    return (
        visible_meetings(user=user, scope=scope)
        .filter(Q(organiser_id=user.pk) | Q(pk__in=attending))
        .filter(starts_at__lt=end, ends_at__gt=start)
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("starts_at", "id")
    )


def meeting_attendee_choices(*, customer: Customer) -> QuerySet[User]:
    """Who may be invited: the active managers who can open the customer (visibility decides),
    so an invitation never names a customer to someone outside its book."""
    return may_hold_work_on(customer=customer).order_by("first_name", "last_name", "username")


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the start of `first` to the end of `last`, in the bank's time zone."""
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    return start, end


@dataclass
class Day:
    date: dt.date
    is_today: bool
    in_month: bool = True
    meetings: list[Meeting] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.meetings and not self.tasks


@dataclass
class CalendarPage:
    view: str  # "week" or "month"
    anchor: dt.date
    today: dt.date
    first: dt.date
    last: dt.date
    days: list[Day]
    previous: dt.date
    following: dt.date

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i : i + WEEK_DAYS] for i in range(0, len(self.days), WEEK_DAYS)]

    @property
    def busy_days(self) -> list[Day]:
        return [day for day in self.days if not day.is_empty and day.in_month]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())  # weeks start on Monday (ISO 8601)


def _month_bounds(anchor: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    first_of_month = anchor.replace(day=1)
    next_month = (first_of_month + dt.timedelta(days=32)).replace(day=1)
    previous_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    return first_of_month, next_month - dt.timedelta(days=1), previous_month, next_month


def calendar_page(*, user: User, view: str, anchor: dt.date | None = None) -> CalendarPage:
    """The user's meetings and open tasks (by due date) for the week or month around `anchor`.

    Two queries whatever the range holds: meetings (attendance through a subquery) and tasks
    (apps.tasks' own selector, `my_open_tasks`).
    """
    today = business_today()
    anchor = anchor or today
    if view == "month":
        month_first, month_last, previous, following = _month_bounds(anchor)
        first = week_start(month_first)
        last = week_start(month_last) + dt.timedelta(days=WEEK_DAYS - 1)
    else:
        view = "week"
        first = week_start(anchor)
        last = first + dt.timedelta(days=WEEK_DAYS - 1)
        month_first, month_last = first, last
        previous, following = first - dt.timedelta(days=WEEK_DAYS), first + dt.timedelta(days=WEEK_DAYS)
    start, end = day_bounds(first, last)
    days = {
        first + dt.timedelta(days=i): Day(
            date=first + dt.timedelta(days=i),
            is_today=first + dt.timedelta(days=i) == today,
            in_month=month_first <= first + dt.timedelta(days=i) <= month_last,
        )
        for i in range((last - first).days + 1)
    }
    for meeting in my_meetings(user=user, start=start, end=end):
        day = days.get(timezone.localdate(meeting.starts_at))
        if day is not None:
            day.meetings.append(meeting)
    tasks = my_open_tasks(user=user).filter(due_at__gte=start, due_at__lt=end)
    for task in tasks.select_related(None).select_related("customer"):
        day = days.get(timezone.localdate(task.due_at))
        if day is not None:
            day.tasks.append(task)
    return CalendarPage(
        view=view,
        anchor=anchor,
        today=today,
        first=first,
        last=last,
        days=list(days.values()),
        previous=previous,
        following=following,
    )


def meetings_today(*, user: User, scope: CustomerScope | None = None) -> list[Meeting]:
    """The user's meetings on the business day (the dashboard shows them): one query."""
    today = business_today()
    start, end = day_bounds(today, today)
    return list(my_meetings(user=user, start=start, end=end, scope=scope))


def active_feed(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).first()


def feed_window() -> tuple[dt.datetime, dt.datetime]:
    today = business_today()
    return day_bounds(today - dt.timedelta(days=FEED_DAYS_BACK), today + dt.timedelta(days=FEED_DAYS_AHEAD))


def feed_meetings(*, user: User) -> QuerySet[Meeting]:
    """The feed's meetings: the owner's, in the window, on customers in their book now."""
    start, end = feed_window()
    return my_meetings(user=user, start=start, end=end)


def feed_tasks(*, user: User) -> QuerySet[Task]:
    """The feed's tasks: the owner's open tasks (apps.tasks' selector) due in the window."""
    start, end = feed_window()
    return my_open_tasks(user=user).filter(due_at__gte=start, due_at__lt=end)


def feed_for_token(*, token: str) -> CalendarFeed:
    """The active feed a URL token opens; unknown, revoked and inactive owners look alike (404)."""
    import hashlib

    digest = hashlib.sha256(token.encode()).hexdigest()
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise NotFound("No such calendar feed.")
    return feed


def feed_document(*, user: User) -> tuple[bytes, int, int]:
    """The user's private calendar (meetings and open tasks in the feed window), and how many of each.

    Only what the user's own calendar page shows: customers in their book by name (customers
    that left it are not in the feed at all), titles they wrote or were sent, no attendee
    addresses and no other personal data.
    """
    from django.conf import settings
    from django.urls import reverse

    from apps.agenda import ics

    site = settings.FINPULSE_SITE_URL.rstrip("/")
    meetings = list(feed_meetings(user=user))
    tasks = list(feed_tasks(user=user).select_related(None).select_related("customer"))
    document = ics.feed(
        name="FinPulse",
        meetings=[
            (meeting, meeting.customer.display_name, site + reverse("calendar:meeting", args=[meeting.pk]))
            for meeting in meetings
        ],
        tasks=[
            ics.TaskEntry(
                uid=f"task-{task.pk}@finpulse",
                title=task.title,
                due_on=timezone.localdate(task.due_at),
                customer_label=task.customer.display_name,
                link=site + reverse("tasks:list"),
            )
            for task in tasks
        ],
    )
    return document, len(meetings), len(tasks)
