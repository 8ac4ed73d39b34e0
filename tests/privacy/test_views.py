"""Compliance's data-subject pages: the erasure form and why an erasure was refused or deferred."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.privacy.models import ErasureRequest
from tests.accounts.factories import HoldingFactory

pytestmark = pytest.mark.django_db


def test_the_officer_sees_why_an_erasure_was_refused(client, compliance_officer, closed_customer):
    HoldingFactory(customer=closed_customer)
    client.force_login(compliance_officer)
    url = reverse("privacy:subject", args=[closed_customer.pk])

    response = client.post(url, {"reference": "DSAR-7", "confirm": "on"}, follow=True)

    assert response.status_code == 200
    assert "still holds 1 active product" in response.content.decode()
    assert ErasureRequest.objects.get(customer=closed_customer).status == "refused"


def test_the_officer_sees_which_hold_defers_an_erasure_and_until_when(
    client, settings, compliance_officer, customer_with_held_records
):
    settings.FINPULSE_BUSINESS_DATE = "2026-03-01"
    client.force_login(compliance_officer)
    url = reverse("privacy:subject", args=[customer_with_held_records.pk])

    client.post(url, {"reference": "DSAR-8", "relationship_ended_on": "2026-01-01", "confirm": "on"})
    page = client.get(reverse("privacy:requests")).content.decode()

    assert "Erasure deferred until 2032-01-01" in page
    assert "Identity documents and due-diligence data" in page and "2031-01-01" in page


def test_the_erasure_needs_a_confirmation_and_a_reference(client, compliance_officer, closed_customer):
    client.force_login(compliance_officer)

    response = client.post(reverse("privacy:subject", args=[closed_customer.pk]), {"reference": " "})

    assert response.status_code == 400
    assert not ErasureRequest.objects.exists()


@pytest.mark.parametrize("route", ["privacy:requests"])
def test_the_pages_are_a_404_for_a_manager(client, manager, route):
    client.force_login(manager)

    assert client.get(reverse(route)).status_code == 404
