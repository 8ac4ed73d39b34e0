"""Compliance's data-subject pages: erasure is proposed, approved by a second officer (four eyes,
step-up), and the officer sees why an erasure was refused or deferred."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change
from apps.core.errors import PermissionDenied
from apps.customers.models import Customer
from apps.privacy.models import ErasureRequest
from tests.accounts.factories import HoldingFactory
from tests.privacy.conftest import step_up

pytestmark = pytest.mark.django_db


def propose(client, customer, **data):
    step_up(client)
    return client.post(reverse("privacy:subject", args=[customer.pk]), {"reference": "DSAR-7", "confirm": "on", **data})


def test_an_erasure_does_nothing_until_a_second_officer_approves_it(
    client, compliance_officer, second_officer, closed_customer
):
    client.force_login(compliance_officer)

    response = propose(client, closed_customer)

    change = ChangeRequest.objects.get(action="customer.erasure", customer_id=closed_customer.pk)
    assert response.status_code == 302
    assert Customer.objects.get(pk=closed_customer.pk).erased_at is None
    assert not ErasureRequest.objects.exists()
    with pytest.raises(PermissionDenied):
        approve_change(checker=compliance_officer, change=change)  # the maker never approves
    approve_change(checker=second_officer, change=change)
    assert Customer.objects.get(pk=closed_customer.pk).erased_at is not None
    assert ErasureRequest.objects.get().requested_by == compliance_officer


def test_proposing_an_erasure_without_a_recent_second_factor_is_refused(client, compliance_officer, closed_customer):
    client.force_login(compliance_officer)

    response = client.post(reverse("privacy:subject", args=[closed_customer.pk]), {"reference": "D", "confirm": "on"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))
    assert not ChangeRequest.objects.exists()


def test_the_officer_sees_why_an_erasure_was_refused(client, compliance_officer, second_officer, closed_customer):
    HoldingFactory(customer=closed_customer)
    client.force_login(compliance_officer)
    propose(client, closed_customer)
    approve_change(checker=second_officer, change=ChangeRequest.objects.get())

    page = client.get(reverse("privacy:subject", args=[closed_customer.pk])).content.decode()

    assert "still holds 1 active product" in page
    assert ErasureRequest.objects.get(customer=closed_customer).status == "refused"


def test_the_officer_sees_which_hold_defers_an_erasure_and_until_when(
    client, settings, compliance_officer, second_officer, customer_with_held_records
):
    settings.FINPULSE_BUSINESS_DATE = "2026-03-01"
    client.force_login(compliance_officer)
    propose(client, customer_with_held_records, relationship_ended_on="2026-01-01")
    approve_change(checker=second_officer, change=ChangeRequest.objects.get())

    page = client.get(reverse("privacy:requests")).content.decode()

    assert "Erasure deferred until 2032-01-01" in page
    assert "Identity documents and due-diligence data" in page and "2031-01-01" in page


def test_the_erasure_needs_a_confirmation_and_a_reference(client, compliance_officer, closed_customer):
    client.force_login(compliance_officer)
    step_up(client)

    response = client.post(reverse("privacy:subject", args=[closed_customer.pk]), {"reference": " "})

    assert response.status_code == 400
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize("route", ["privacy:requests"])
def test_the_pages_are_a_404_for_a_manager(client, manager, route):
    client.force_login(manager)

    assert client.get(reverse(route)).status_code == 404
