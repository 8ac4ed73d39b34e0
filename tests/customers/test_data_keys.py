"""Per-customer data keys: each customer's PII under its own key, wrapped by the master key."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from apps.core.data_keys import HEADER_LENGTH, VERSION, DestroyedKey, data_key_scope, destroy_data_key
from apps.core.models import AuditEvent, DataKey
from apps.customers.models import Customer, IdentityDocument
from apps.customers.services import add_identity_document
from tests.customers.factories import CustomerFactory
from tests.customers.legacy_keys import CUSTOMER_COLUMNS, make_legacy

pytestmark = pytest.mark.django_db

KEY_A = "data-key-test-master-A-0123456789abcdefghijklmnopqrstuvwxyz"
KEY_B = "data-key-test-master-B-zyxwvutsrqponmlkjihgfedcba9876543210"


def stored(table: str, column: str, pk: int) -> bytes | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        value = cursor.fetchone()[0]
    return None if value is None else bytes(value)


def document_for(customer: Customer) -> IdentityDocument:
    return add_identity_document(
        actor=None, customer=customer, document_type="passport", number="P7654321", issuing_country="gb"
    )


def test_a_new_customers_pii_is_stored_under_its_own_data_key():
    first = CustomerFactory(email="ann@bank.example")
    second = CustomerFactory(email="bob@bank.example")

    for customer in (first, second):
        for column in CUSTOMER_COLUMNS:
            token = stored("customers_customer", column, customer.pk)
            assert token[:1] == VERSION
            assert token[1:HEADER_LENGTH] == customer.data_key_id.bytes
    assert first.data_key_id != second.data_key_id
    assert Customer.objects.get(pk=first.pk).email == "ann@bank.example"


def test_an_identity_document_goes_under_its_customers_key():
    customer = CustomerFactory()
    document = document_for(customer)

    token = stored("customers_identitydocument", "number", document.pk)

    assert token[1:HEADER_LENGTH] == customer.data_key_id.bytes
    assert IdentityDocument.objects.get(pk=document.pk).number == "P7654321"


def test_destroying_the_key_makes_the_stored_pii_unreadable():
    customer = CustomerFactory(email="gone@bank.example")
    destroy_data_key(customer.data_key_id, reason="test")

    with pytest.raises(DestroyedKey):
        Customer.objects.get(pk=customer.pk).email  # noqa: B018


@pytest.mark.parametrize("customers", [3, 30])
def test_reading_the_pii_of_many_customers_unwraps_their_keys_in_one_query(customers, django_assert_num_queries):
    CustomerFactory.create_batch(customers)

    with data_key_scope(), django_assert_num_queries(2):  # the customers, then their keys
        emails = [c.email for c in Customer.objects.all()]

    assert all("@" in e for e in emails)


def test_legacy_customers_read_before_and_after_the_command_moves_them_to_their_own_keys():
    customers = CustomerFactory.create_batch(3)
    document = document_for(customers[0])
    expected = {c.pk: (c.email, c.national_id, c.date_of_birth) for c in customers}
    make_legacy(customers)
    assert Customer.objects.filter(data_key_id__isnull=True).count() == 3
    assert {c.pk: (c.email, c.national_id, c.date_of_birth) for c in Customer.objects.all()} == expected

    out = StringIO()
    call_command("wrap_customer_data_keys", "--batch-size", "2", stdout=out)

    assert "3 customers given a data key" in out.getvalue()
    moved = {c.pk: c for c in Customer.objects.all()}
    assert {pk: (c.email, c.national_id, c.date_of_birth) for pk, c in moved.items()} == expected
    for pk, customer in moved.items():
        assert stored("customers_customer", "email", pk)[1:HEADER_LENGTH] == customer.data_key_id.bytes
    number = stored("customers_identitydocument", "number", document.pk)
    assert number[1:HEADER_LENGTH] == moved[customers[0].pk].data_key_id.bytes
    assert IdentityDocument.objects.get(pk=document.pk).number == "P7654321"
    assert AuditEvent.objects.filter(action="encryption.data_keys_assigned").count() == 2
    call_command("wrap_customer_data_keys", stdout=(again := StringIO()))
    assert "0 customers given a data key" in again.getvalue()


def test_rotating_the_master_key_rewraps_the_data_keys_and_leaves_the_pii_alone(settings):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_A]
    customer = CustomerFactory(email="kept@bank.example")
    before = stored("customers_customer", "email", customer.pk)

    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_key", stdout=StringIO())
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]

    assert stored("customers_customer", "email", customer.pk) == before  # the data is not touched
    assert Customer.objects.get(pk=customer.pk).email == "kept@bank.example"
    assert DataKey.objects.get(pk=customer.data_key_id).material  # unwraps under B alone
