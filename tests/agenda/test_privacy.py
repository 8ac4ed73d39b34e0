"""Meetings under data-subject rights: exported with the customer's data, erased with their activity."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.agenda.models import Meeting
from apps.agenda.services import log_meeting
from apps.interactions.models import Interaction
from apps.privacy.export import subject_data
from apps.privacy.services import request_erasure
from tests.agenda.support import a_meeting
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _logged_meeting(manager, customer):  # type: ignore[no-untyped-def]
    meeting = a_meeting(manager, customer, title="Pension transfer", agenda="Bring the old statements")
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=meeting.starts_at - dt.timedelta(days=3), ends_at=meeting.ends_at - dt.timedelta(days=3)
    )
    meeting.refresh_from_db()
    log_meeting(actor=manager, meeting=meeting, notes="Transfer agreed.")
    return meeting


def test_the_subject_export_holds_the_customers_meetings(manager):
    customer = CustomerFactory(assigned_to=manager)
    _logged_meeting(manager, customer)

    data = subject_data(customer=customer)

    (meeting,) = data["meetings"]
    assert meeting["title"] == "Pension transfer" and meeting["agenda"] == "Bring the old statements"
    assert meeting["status"] == "held" and meeting["interaction"] == data["interactions"][0]["id"]


def test_erasing_a_customer_with_a_logged_meeting_deletes_the_meeting_and_its_interaction(manager, compliance_officer):
    customer = CustomerFactory(assigned_to=manager)
    _logged_meeting(manager, customer)

    request = request_erasure(actor=compliance_officer, customer=customer, reference="DSAR-7")

    assert request.status == "completed"
    assert not Meeting.objects.filter(customer=customer).exists()
    assert not Interaction.objects.filter(customer=customer).exists()
