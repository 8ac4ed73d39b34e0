"""Meetings: scheduling, rescheduling, cancelling and logging through the services, with their
invitations read back from the outbox as a calendar client would read them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from apps.agenda.models import Meeting
from apps.agenda.services import cancel_meeting, log_meeting, reschedule_meeting
from apps.core.errors import Conflict, DomainError, PermissionDenied
from apps.core.models import AuditEvent
from apps.interactions.models import Interaction
from apps.notifications.services import deliver_notification
from tests.agenda.support import a_meeting, invitations, parsed, tomorrow_at
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(manager):  # type: ignore[no-untyped-def]
    return CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lowther")


@pytest.fixture
def colleague(branch_manager):  # type: ignore[no-untyped-def]
    """The branch manager of the customer's branch: may open the customer, so may be invited."""
    return branch_manager


def test_scheduling_sends_a_request_to_the_organiser_and_each_attendee(manager, colleague, customer):
    meeting = a_meeting(manager, customer, attendees=[colleague])

    rows = invitations(meeting)
    assert [row.recipient_user for row in rows] == [manager, colleague]
    assert {row.channel for row in rows} == {"email"}
    calendar, event = parsed(rows[1])
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 0
    assert event["DTSTAMP"]
    assert event.decoded("DTSTART") == meeting.starts_at
    assert event.decoded("DTEND") == meeting.ends_at
    assert str(event["ORGANIZER"]) == f"mailto:{manager.email}"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == [f"mailto:{manager.email}", f"mailto:{colleague.email}"]
    assert attendees[1].params["PARTSTAT"] == "NEEDS-ACTION"
    assert "Ada Lowther" in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]) == "Head office, room 4"


def test_scheduling_is_audited_without_the_free_text(manager, customer):
    meeting = a_meeting(manager, customer, title="Ada's divorce settlement", agenda="Private matters")

    event = AuditEvent.objects.get(action="meeting.scheduled", object_id=str(meeting.pk))
    assert event.customer_id == customer.pk
    written = str(event.metadata) + str(event.changes)
    assert "divorce" not in written and "Private" not in written


def test_a_colleague_who_cannot_open_the_customer_cannot_be_invited(manager, other_manager, customer):
    with pytest.raises(DomainError) as refused:
        a_meeting(manager, customer, attendees=[other_manager])

    assert refused.value.field == "attendees"
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"location": "", "video_url": ""}, "location"),
        ({"location": "", "video_url": "http://meet.example/abc"}, "video_url"),
        ({"ends_at": tomorrow_at(9)}, "ends_at"),
        ({"ends_at": tomorrow_at(10) + dt.timedelta(hours=13)}, "ends_at"),
        ({"title": "  "}, "title"),
        (
            {"starts_at": tomorrow_at(10) - dt.timedelta(days=3), "ends_at": tomorrow_at(11) - dt.timedelta(days=3)},
            "starts_at",
        ),
    ],
)
def test_a_bad_meeting_is_refused_and_nothing_is_written(manager, customer, overrides, field):
    with pytest.raises(DomainError) as refused:
        a_meeting(manager, customer, **overrides)

    assert refused.value.field == field
    assert not Meeting.objects.exists()
    assert not AuditEvent.objects.filter(action="meeting.scheduled").exists()


def test_a_video_meeting_carries_its_link(manager, customer):
    meeting = a_meeting(manager, customer, location="", video_url="https://meet.bank.example/r/42")

    _, event = parsed(invitations(meeting)[0])
    assert str(event["URL"]) == "https://meet.bank.example/r/42"


def test_rescheduling_bumps_the_sequence_and_cancels_for_whoever_was_taken_off(manager, colleague, customer):
    meeting = a_meeting(manager, customer, attendees=[colleague])

    meeting = reschedule_meeting(
        actor=manager,
        meeting=meeting,
        title="Deposit review",
        starts_at=tomorrow_at(14),
        ends_at=tomorrow_at(15),
        location="Head office, room 4",
        attendees=[],
    )

    assert meeting.sequence == 1
    newest = invitations(meeting)[2:]
    by_person = {(row.recipient_user, parsed(row)[0]["METHOD"]): parsed(row)[1] for row in newest}
    assert set(by_person) == {(manager, "REQUEST"), (colleague, "CANCEL")}
    request = by_person[(manager, "REQUEST")]
    assert request["SEQUENCE"] == 1
    assert request.decoded("DTSTART") == tomorrow_at(14)
    assert str(request["UID"]) == meeting.uid
    event = AuditEvent.objects.get(action="meeting.rescheduled")
    assert event.metadata["removed"] == [colleague.pk]


def test_saving_without_a_change_sends_nothing(manager, customer):
    meeting = a_meeting(manager, customer)

    reschedule_meeting(
        actor=manager,
        meeting=meeting,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        location=meeting.location,
    )

    assert len(invitations(meeting)) == 1
    assert Meeting.objects.get().sequence == 0


def test_only_the_organiser_changes_or_cancels(manager, colleague, customer):
    meeting = a_meeting(manager, customer, attendees=[colleague])

    with pytest.raises(PermissionDenied):
        cancel_meeting(actor=colleague, meeting=meeting)
    with pytest.raises(PermissionDenied):
        reschedule_meeting(
            actor=colleague,
            meeting=meeting,
            title="Mine now",
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            location="x",
        )
    assert Meeting.objects.get().status == Meeting.Status.SCHEDULED


def test_cancelling_sends_method_cancel_to_everyone_with_the_next_sequence(manager, colleague, customer):
    meeting = a_meeting(manager, customer, attendees=[colleague])

    cancel_meeting(actor=manager, meeting=meeting)

    cancels = invitations(meeting)[2:]
    assert [row.recipient_user for row in cancels] == [manager, colleague]
    for row in cancels:
        calendar, event = parsed(row)
        assert calendar["METHOD"] == "CANCEL"
        assert event["STATUS"] == "CANCELLED"
        assert event["SEQUENCE"] == 1
    with pytest.raises(Conflict):
        cancel_meeting(actor=manager, meeting=meeting)


def test_a_compliance_officer_schedules_nothing(compliance_officer, customer):
    with pytest.raises(PermissionDenied):
        a_meeting(compliance_officer, customer)


def test_logging_a_meeting_records_an_interaction_linked_to_it(manager, colleague, customer):
    meeting = a_meeting(manager, customer, attendees=[colleague])
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=meeting.starts_at - dt.timedelta(days=2), ends_at=meeting.ends_at - dt.timedelta(days=2)
    )
    meeting.refresh_from_db()

    interaction = log_meeting(actor=colleague, meeting=meeting, notes="Agreed to renew.", outcome="Renewal")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert meeting.interaction == interaction
    assert interaction.channel == Interaction.Channel.MEETING
    assert interaction.customer == customer
    assert interaction.author == colleague
    assert interaction.occurred_at == meeting.starts_at
    assert interaction.body == "Agreed to renew."
    assert AuditEvent.objects.filter(action="meeting.logged", object_id=str(meeting.pk)).count() == 1
    with pytest.raises(Conflict):
        log_meeting(actor=manager, meeting=meeting, notes="Again")


def test_a_meeting_is_logged_only_once_it_has_started_and_only_by_someone_on_it(manager, colleague, customer):
    meeting = a_meeting(manager, customer)

    with pytest.raises(DomainError, match="once it has started"):
        log_meeting(actor=manager, meeting=meeting, notes="Too early")
    with pytest.raises(PermissionDenied):
        log_meeting(actor=colleague, meeting=meeting, notes="Not mine")
    assert not Interaction.objects.exists()


def test_the_invitation_email_carries_a_text_calendar_attachment(manager, customer, settings):
    settings.FINPULSE_QUIET_HOURS = ""
    with transaction.atomic():
        meeting = a_meeting(manager, customer)
    (row,) = invitations(meeting)

    assert deliver_notification(notification_id=row.pk) == "sent"

    (message,) = mail.outbox
    assert message.to == [manager.email]
    raw = message.message()
    parts = [part for part in raw.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_param("method") == "REQUEST"
    assert meeting.uid in parts[0].get_payload(decode=True).decode()


# -- the customer's copy -----------------------------------------------------------------------


def _customer_rows(meeting):  # type: ignore[no-untyped-def]
    return [row for row in invitations(meeting) if row.recipient_customer_id is not None]


def test_the_customer_gets_their_own_copy_and_their_address_is_never_stored(manager, customer):
    meeting = a_meeting(manager, customer, invite_customer=True)

    (row,) = _customer_rows(meeting)
    assert row.recipient_customer == customer and row.channel == "email"
    calendar, event = parsed(row)
    assert calendar["METHOD"] == "REQUEST" and str(event["UID"]) == meeting.uid
    attendees = event["ATTENDEE"] if isinstance(event["ATTENDEE"], list) else [event["ATTENDEE"]]
    assert [str(a) for a in attendees] == [f"mailto:{manager.email}"]  # the bank's people only
    assert "In FinPulse" not in str(event["DESCRIPTION"])
    stored = str(row.payload) + row.subject
    assert customer.email not in stored
    audit = AuditEvent.objects.get(action="meeting.scheduled")
    assert audit.metadata["customer_invited"] is True
    assert customer.email not in str(audit.metadata)


def test_the_customers_copy_is_sent_with_consent_and_skipped_without(manager, customer, settings):
    from apps.customers.services import record_consent

    settings.FINPULSE_QUIET_HOURS = ""
    with transaction.atomic():
        meeting = a_meeting(manager, customer, invite_customer=True)
    (row,) = _customer_rows(meeting)

    assert deliver_notification(notification_id=row.pk) == "skipped"  # no consent recorded
    record_consent(actor=None, customer=customer, channel="email", purpose="service", granted=True)
    cancel_meeting(actor=manager, meeting=meeting)
    (cancel,) = [r for r in _customer_rows(meeting) if r.pk != row.pk]
    assert deliver_notification(notification_id=cancel.pk) == "sent"

    (message,) = mail.outbox
    assert message.to == [customer.email]
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "CANCEL"


def test_taking_the_customer_off_sends_them_a_cancel(manager, customer):
    meeting = a_meeting(manager, customer, invite_customer=True)

    reschedule_meeting(
        actor=manager,
        meeting=meeting,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        location=meeting.location,
        invite_customer=False,
    )

    methods = [parsed(row)[0]["METHOD"] for row in _customer_rows(meeting)]
    assert methods == ["REQUEST", "CANCEL"]


def test_a_customer_without_an_address_cannot_be_invited(manager):
    customer = CustomerFactory(assigned_to=manager, email="")

    with pytest.raises(DomainError) as refused:
        a_meeting(manager, customer, invite_customer=True)

    assert refused.value.field == "invite_customer"
    assert not Meeting.objects.exists()
