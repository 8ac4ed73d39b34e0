"""COPY inserts (apps.core.bulk): the same rows bulk_create would write, errors as Django's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.audit import COPY_FROM, AuditEntry, check_chain, record_audit_events
from apps.core.bulk import copy_insert, copy_rows
from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment
from tests.customers.factories import CustomerFactory


def _customer(branch, number: int) -> Customer:
    customer = Customer(
        external_id=f"COPY{number:04d}",
        kind=Customer.Kind.INDIVIDUAL,
        first_name="Ada",
        last_name=f"Lovelace {number}",
        date_of_birth=dt.date(1980, 1, number % 28 + 1),
        country="GB",
        annual_income=Decimal("52000.50"),
        income_currency="GBP",
        branch=branch,
    )
    customer.set_pii("email", f"ada{number}@mail.example")
    customer.set_pii("national_id", f"AB{number:06d}C")
    customer.display_name = customer.compose_display_name()
    return customer


def test_copied_rows_read_back_like_saved_ones_with_pii_encrypted(branch):
    customers = [_customer(branch, n) for n in range(3)]

    copy_insert(customers)

    assert all(c.pk for c in customers) and not customers[0]._state.adding
    stored = Customer.objects.get(pk=customers[1].pk)
    assert (stored.email, stored.national_id, stored.date_of_birth) == (
        "ada1@mail.example",
        "AB000001C",
        dt.date(1980, 1, 2),
    )
    assert stored.annual_income == Decimal("52000.50") and stored.created_at is not None
    assert Customer.objects.filter(email_index=customers[1].email_index).get() == stored
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM customers_customer WHERE id = %s", [stored.pk])
        assert b"ada1@mail.example" not in bytes(cursor.fetchone()[0])


def test_primary_keys_follow_the_order_of_the_objects(branch):
    customers = [_customer(branch, n) for n in range(5)]

    copy_insert(customers)

    ids = [c.pk for c in customers]
    assert ids == sorted(ids)
    assert list(Customer.objects.filter(pk__in=ids).order_by("pk").values_list("external_id", flat=True)) == [
        c.external_id for c in customers
    ]


def test_a_refused_row_raises_djangos_integrity_error_and_writes_nothing(branch):
    existing = CustomerFactory(branch=branch)
    batch = [_customer(branch, 1), _customer(branch, 2)]
    batch[1].external_id = existing.external_id

    with pytest.raises(IntegrityError), transaction.atomic():
        copy_insert(batch)

    assert not Customer.objects.filter(external_id="COPY0001").exists()


@pytest.mark.parametrize("count", [COPY_FROM - 1, COPY_FROM + 1])
def test_a_large_batch_of_audit_events_keeps_the_chain_verifiable(db, count):
    with transaction.atomic():
        events = record_audit_events(
            AuditEntry(action="test.bulk", object_type="x", object_id=i, metadata={"i": i}) for i in range(count)
        )

    assert [e.metadata["i"] for e in AuditEvent.objects.filter(action="test.bulk").order_by("id")] == list(range(count))
    assert all(e.pk for e in events)
    report = check_chain()
    assert report.broken == 0 and report.verified == count


def test_copy_rows_writes_plain_rows_with_their_ids_from_the_table(branch, manager):
    customers = [_customer(branch, n) for n in range(2)]
    copy_insert(customers)

    copy_rows(
        CustomerAssignment,
        ["customer", "manager", "assigned_by", "reason", "started_at", "ended_at"],
        [(c.pk, manager.pk, None, "Imported", timezone.now(), None) for c in customers],
    )

    stored = CustomerAssignment.objects.filter(customer__in=customers).order_by("id")
    assert [(a.customer_id, a.manager_id, a.reason) for a in stored] == [
        (c.pk, manager.pk, "Imported") for c in customers
    ]
    assert all(a.pk for a in stored)
