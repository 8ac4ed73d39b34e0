"""Helpers shared by the workspace page tests (dashboard, customer list, 360 page, export)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import Holding
from apps.customers.models import Customer, IdentityDocument
from apps.customers.services import add_identity_document
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.tasks.factories import TaskFactory

TODAY = dt.date(2026, 3, 2)  # a Monday; every test pins the business date to it

_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\s(on[a-z]+|style)\s*=", re.IGNORECASE)


@pytest.fixture
def plain_static_files(settings):  # type: ignore[no-untyped-def]
    """Pages render without `collectstatic`: the manifest storage would refuse unknown files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def role_permissions(db):  # type: ignore[no-untyped-def]
    """The role groups with their permissions, as `migrate` leaves them in production.

    In a fresh test database the identity app's post_migrate hook runs before the later apps
    have created their permissions, so the groups come out empty; sync them once more.
    """
    from apps.identity.roles import sync_role_permissions

    sync_role_permissions()


@pytest.fixture
def pinned_today(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()
    return TODAY


def inline_scripts(html: str) -> list[str]:
    """<script> tags that carry code in the page (no src, not a JSON data block)."""
    found = []
    for match in _SCRIPT_TAG.finditer(html):
        attributes = match.group(1)
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        found.append(match.group(0))
    return found


def inline_handlers_or_styles(html: str) -> list[str]:
    return [m.group(0) for m in _HANDLER_ATTRIBUTE.finditer(html)]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def seed_customer_day(manager: Any, *, holdings: int = 1, **customer: Any) -> Customer:
    """A customer of `manager` with something for every dashboard section."""
    person = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY + dt.timedelta(days=10), **customer)
    for n in range(holdings):
        HoldingFactory(
            customer=person,
            category=Holding.Category.TERM_DEPOSIT,
            maturity_date=TODAY + dt.timedelta(days=5 + n % 20),
            balance=Decimal("1000.00") + n,
        )
    add_identity_document(
        actor=None,
        customer=person,
        document_type=IdentityDocument.DocumentType.PASSPORT,
        number="P1234567",
        issuing_country="GB",
        expiry_date=TODAY + dt.timedelta(days=20),
    )
    TaskFactory(customer=person, assignee=manager, title=f"Call {person.display_name}", due_at=at(TODAY))
    return person
