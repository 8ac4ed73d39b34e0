"""Demo meetings: each relationship manager has a few customer meetings in the days ahead,
scheduled through the calendar's service (so their invitations go through the outbox)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from apps.agenda.models import Meeting
from apps.agenda.services import schedule_meeting
from apps.customers.models import Customer
from apps.demo.catalog import USERS
from apps.demo.planner import DEMO_PREFIX
from apps.demo.report import SeedReport
from apps.identity import roles

# (days ahead, start, minutes, title, where): a place, or a video link for the second one.
MEETINGS = (
    (1, dt.time(10, 0), 60, "Annual relationship review", "Branch office, meeting room 2"),
    (2, dt.time(14, 30), 45, "Term deposit renewal options", "https://meet.finpulse.example/demo-review"),
    (4, dt.time(9, 30), 60, "Mortgage pre-approval", "Customer's office"),
)


def ensure_meetings(*, today: dt.date, users: dict[str, Any], report: SeedReport) -> None:
    """Schedule the demo meetings unless there are some already; the branch manager of the
    manager's branch is invited to the first (they may open every customer of the branch)."""
    demo = Customer.objects.filter(external_id__startswith=DEMO_PREFIX)
    if Meeting.objects.filter(customer__in=demo).exists():
        return
    # Meetings are scheduled ahead of the clock, even when the business date is pinned in the past.
    first_day = max(today, timezone.localdate())
    branch_managers = {spec.branch_code: users[spec.username] for spec in USERS if spec.role == roles.BRANCH_MANAGER}
    for spec in USERS:
        if spec.role != roles.RELATIONSHIP_MANAGER:
            continue
        manager = users[spec.username]
        customers = list(demo.filter(primary_manager=manager).order_by("external_id")[: len(MEETINGS)])
        for index, (customer, (days, start, minutes, title, where)) in enumerate(
            zip(customers, MEETINGS, strict=False)
        ):
            starts_at = timezone.make_aware(dt.datetime.combine(first_day + dt.timedelta(days=days), start))
            colleague = branch_managers.get(spec.branch_code)
            schedule_meeting(
                actor=manager,
                customer=customer,
                title=title,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=minutes),
                location="" if where.startswith("https://") else where,
                video_url=where if where.startswith("https://") else "",
                attendees=[colleague] if colleague is not None and index == 0 else [],
            )
            report.created["meetings"] += 1
