from __future__ import annotations

import datetime as dt

import pytest

from apps.customers.services import add_identity_document
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.tasks.factories import TaskFactory

PII = {
    "email": "ada.lovelace@example.org",
    "phone": "+44 7700 900123",
    "national_id": "QQ123456C",
    "address": "12 Analytical Row, London",
    "date_of_birth": dt.date(1985, 12, 10),
}


@pytest.fixture
def closed_customer(manager):
    """A former customer: no active product, some activity, no document (nothing held)."""
    customer = CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lovelace", **PII)
    InteractionFactory(customer=customer)
    TaskFactory(customer=customer)
    return customer


@pytest.fixture
def customer_with_held_records(manager):
    """A former customer whose KYC document and closed holding fall under retention holds."""
    customer = CustomerFactory(assigned_to=manager, first_name="Grace", last_name="Hopper", **PII)
    add_identity_document(
        actor=None, customer=customer, document_type="passport", number="P1122334", issuing_country="gb"
    )
    HoldingFactory(customer=customer, status="closed")
    InteractionFactory(customer=customer)
    return customer


def step_up(client) -> None:
    """A second factor verified just now (the session mark apps.identity.step_up reads)."""
    import time

    from apps.identity.step_up import SECOND_FACTOR_SESSION_KEY

    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time(), "method": "totp"}
    session.save()


@pytest.fixture
def second_officer(db):
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    return UserFactory(roles=[roles.COMPLIANCE_OFFICER], username="compliance.checker")
