"""The calendar in a real browser, with a real SMTP server process.

A manager signs in, opens their customer, schedules a meeting with a colleague; the outbox's
delivery (what the Celery worker runs) sends the invitations to an SMTP server running in its
own process (aiosmtpd, writing a Maildir); each message carries a text/calendar REQUEST that
parses back to the meeting. The week page is then read at phone width (390 px) without
sideways scrolling. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import socket
import sys

import pytest
from django.utils import timezone
from icalendar import Calendar

from apps.agenda.models import Meeting
from apps.identity import roles
from apps.notifications.models import Kind, Notification
from apps.notifications.services import deliver_notification
from tests.conftest import BROWSER_ARTIFACTS, sign_in
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.notifications.realservices import Proc, free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def smtp_process(tmp_path):  # type: ignore[no-untyped-def]
    """aiosmtpd in its own process, storing what it accepts in a Maildir."""
    port = free_port()
    maildir = tmp_path / "maildir"
    server = Proc(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        wait_for(lambda: _listening(port), timeout=30, what="the SMTP server process")
        yield port, maildir
    finally:
        server.stop()


def test_schedule_a_meeting_and_the_ics_reaches_a_real_smtp_server(live_server, chromium, smtp_process, settings):
    from playwright.sync_api import expect

    port, maildir = smtp_process
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 10
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    branch = BranchFactory(code="LDN77", name="London Calendar")
    manager = UserFactory(
        username="rm.calendar", first_name="Iris", last_name="Marlow", roles=[roles.RELATIONSHIP_MANAGER], branch=branch
    )
    colleague = UserFactory(
        username="bm.calendar", first_name="Owen", last_name="Pryce", roles=[roles.BRANCH_MANAGER], branch=branch
    )
    customer = CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lowther")
    day = timezone.localdate() + dt.timedelta(days=1)
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    expect.set_options(timeout=10_000)
    sign_in(page, live_server.url, manager.username, PASSWORD)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.get_by_role("link", name="Schedule a meeting").click()
    page.fill("#id_title", "Deposit renewal review")
    page.fill("#id_starts_at", f"{day.isoformat()}T10:00")
    page.fill("#id_ends_at", f"{day.isoformat()}T11:00")
    page.fill("#id_location", "Head office, room 4")
    page.get_by_label("Owen Pryce").check()
    page.screenshot(path=str(BROWSER_ARTIFACTS / "calendar-schedule.png"), full_page=True)
    page.get_by_role("button", name="Schedule and send the invitation").click()
    expect(page.get_by_role("heading", name="Deposit renewal review")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Owen Pryce")

    page.get_by_role("link", name="Back to the calendar").click()
    expect(page.locator(".calendar-entry--meeting")).to_contain_text("Deposit renewal review")
    page.screenshot(path=str(BROWSER_ARTIFACTS / "calendar-week-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".calendar-entry--meeting")).to_contain_text("Deposit renewal review")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(BROWSER_ARTIFACTS / "calendar-week-390.png"), full_page=True)
    page.get_by_role("link", name="Month").click()
    expect(page.locator(".calendar-agenda")).to_contain_text("Deposit renewal review")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=str(BROWSER_ARTIFACTS / "calendar-month-390.png"), full_page=True)

    meeting = Meeting.objects.get()
    rows = Notification.objects.filter(kind=Kind.MEETING_INVITATION).order_by("id")
    # What the worker runs for each id the outbox published.
    assert [deliver_notification(notification_id=row.pk) for row in rows] == ["sent", "sent"]

    messages = wait_for(
        lambda: list(mailbox.Maildir(str(maildir), create=False)) if maildir.exists() else [],
        timeout=20,
        what="two messages in the SMTP server's Maildir",
    )
    assert sorted(message["To"] for message in messages) == sorted([manager.email, colleague.email])
    for message in messages:
        assert message["Subject"].startswith("Invitation: Deposit renewal review")
        (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REQUEST"
        calendar = Calendar.from_ical(part.get_payload(decode=True))
        assert calendar["METHOD"] == "REQUEST"
        (event,) = calendar.walk("VEVENT")
        assert str(event["UID"]) == meeting.uid
        assert event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == meeting.starts_at
        assert str(event["ORGANIZER"]) == f"mailto:{manager.email}"
        assert sorted(str(a) for a in event["ATTENDEE"]) == sorted(
            [f"mailto:{manager.email}", f"mailto:{colleague.email}"]
        )
        assert "Ada Lowther" in str(event["DESCRIPTION"])
