"""PII at rest: ciphertext in the database, plaintext only through the model, keyed by the
encryption key alone (never SECRET_KEY)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings

from apps.accounts.models import Holding
from apps.core.data_keys import HEADER_LENGTH as DATA_KEY_HEADER_LENGTH
from apps.core.data_keys import VERSION as DATA_KEY_VERSION
from apps.core.encryption import HEADER_LENGTH, VERSION, KeyRing, UndecryptableValue, keyring
from apps.customers.models import Customer, IdentityDocument
from apps.customers.services import add_identity_document
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory

PII = {
    "date_of_birth": dt.date(1975, 11, 3),
    "national_id": "QQ123456C",
    "email": "jane.doe@mail.example",
    "phone": "+44 7700 900123",
    "address": "221B Baker Street, London NW1 6XE",
}


def raw_customer_row(pk: int) -> dict[str, bytes | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT national_id, email, phone, address, date_of_birth FROM customers_customer WHERE id = %s", [pk]
        )
        row = cursor.fetchone()
    names = ["national_id", "email", "phone", "address", "date_of_birth"]
    return {name: None if value is None else bytes(value) for name, value in zip(names, row, strict=True)}


def plaintext_fragments(value: object) -> list[bytes]:
    """What a leak would look like in the stored bytes: the value and telling pieces of it."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    pieces = {text, *[part for part in text.replace("@", " ").replace(",", " ").split() if len(part) >= 4]}
    return [piece.encode() for piece in pieces]


def test_a_raw_sql_read_shows_ciphertext_for_every_pii_column(manager):
    customer = CustomerFactory(assigned_to=manager, **PII)

    row = raw_customer_row(customer.pk)

    for name, stored in row.items():
        assert stored is not None, name
        # Under the customer's own data key (apps.core.data_keys), itself under the master key.
        assert stored[:1] == DATA_KEY_VERSION
        assert stored[1:DATA_KEY_HEADER_LENGTH] == customer.data_key_id.bytes
        for fragment in plaintext_fragments(PII[name]):
            assert fragment not in stored, f"{name} leaks {fragment!r}"


def test_the_model_reads_the_pii_back(manager):
    customer = CustomerFactory(assigned_to=manager, **PII)

    reloaded = Customer.objects.get(pk=customer.pk)

    assert {name: getattr(reloaded, name) for name in PII} == PII


def test_document_and_account_numbers_are_ciphertext_in_the_database(manager):
    customer = CustomerFactory(assigned_to=manager)
    document = add_identity_document(
        actor=manager, customer=customer, document_type="passport", number="P9876543", issuing_country="GB"
    )
    holding = HoldingFactory(customer=customer, number="GB29NWBK60161331926819")

    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM customers_identitydocument WHERE id = %s", [document.pk])
        document_bytes = bytes(cursor.fetchone()[0])
        cursor.execute("SELECT number, number_hint FROM accounts_holding WHERE id = %s", [holding.pk])
        holding_bytes, hint = cursor.fetchone()

    assert b"P9876543" not in document_bytes
    assert b"GB29NWBK60161331926819" not in bytes(holding_bytes)
    assert hint == "••••6819"
    assert IdentityDocument.objects.get(pk=document.pk).number == "P9876543"
    assert Holding.objects.get(pk=holding.pk).number == "GB29NWBK60161331926819"


def test_changing_secret_key_leaves_every_pii_field_readable(manager):
    customer = CustomerFactory(assigned_to=manager, **PII)
    holding = HoldingFactory(customer=customer, number="12345678")

    with override_settings(SECRET_KEY="a-completely-different-secret-key-after-rotation-0987654321"):
        reloaded = Customer.objects.get(pk=customer.pk)
        assert {name: getattr(reloaded, name) for name in PII} == PII
        assert Holding.objects.get(pk=holding.pk).number == "12345678"


def test_a_blank_pii_value_is_stored_as_null(manager):
    customer = CustomerFactory(assigned_to=manager, email="", phone="", address="", date_of_birth=None)

    row = raw_customer_row(customer.pk)

    assert row["email"] is row["phone"] is row["address"] is row["date_of_birth"] is None
    reloaded = Customer.objects.get(pk=customer.pk)
    assert (reloaded.email, reloaded.phone, reloaded.address, reloaded.date_of_birth) == ("", "", "", None)


def test_a_credit_card_number_is_never_stored(manager):
    holding = HoldingFactory(
        customer=CustomerFactory(assigned_to=manager), category="credit_card", number="4111 1111 1111 1111"
    )

    assert Holding.objects.filter(pk=holding.pk, number__isnull=True).exists()
    assert holding.number_hint == "••••1111"


def test_the_same_value_encrypts_differently_each_time():
    ring = keyring()

    assert ring.encrypt(b'"QQ123456C"') != ring.encrypt(b'"QQ123456C"')


def test_every_configured_key_decrypts_and_only_the_newest_encrypts():
    old = KeyRing(["old-key-0123456789abcdefghijklmnopqrstuvwxyz"])
    token = old.encrypt(b"secret")
    ring = KeyRing(["new-key-0123456789abcdefghijklmnopqrstuvwxyz", "old-key-0123456789abcdefghijklmnopqrstuvwxyz"])

    assert ring.decrypt(token) == b"secret"
    assert not ring.is_current(token)
    assert ring.is_current(ring.encrypt(b"secret"))


def test_a_value_under_an_unconfigured_key_is_refused_not_misread():
    token = KeyRing(["some-other-key-0123456789abcdefghijklmnopqrstuvwxyz"]).encrypt(b"secret")

    with pytest.raises(UndecryptableValue, match="not configured"):
        keyring().decrypt(token)


def test_a_tampered_ciphertext_is_refused():
    token = bytearray(keyring().encrypt(b"secret"))
    token[HEADER_LENGTH + 20] ^= 0x01

    with pytest.raises(UndecryptableValue, match="signature"):
        keyring().decrypt(bytes(token))


def test_a_value_whose_key_id_was_swapped_is_refused():
    other = KeyRing(["some-other-key-0123456789abcdefghijklmnopqrstuvwxyz", *keyring_secrets()])
    forged = VERSION + other.current.key_id + keyring().encrypt(b"secret")[HEADER_LENGTH:]

    with pytest.raises(UndecryptableValue):
        other.decrypt(forged)


def keyring_secrets() -> list[str]:
    from django.conf import settings

    return list(settings.FINPULSE_ENCRYPTION_KEYS)


def test_encrypted_columns_refuse_lookups_other_than_isnull(manager):
    CustomerFactory(assigned_to=manager, email="jane.doe@mail.example")

    with pytest.raises(FieldError):
        list(Customer.objects.filter(email="jane.doe@mail.example"))
    assert Customer.objects.filter(email__isnull=False).count() == 1
