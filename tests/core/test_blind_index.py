"""Blind index: exact lookups and de-duplication of PII without decrypting, under its own key."""

from __future__ import annotations

import hashlib

import pytest

from apps.core.blind_index import blind_index
from apps.core.errors import DomainError
from apps.customers.models import Customer
from apps.workspace.customer_list import customers_by_pii
from tests.customers.factories import CustomerFactory

KEY_A = "rotation-test-key-A-0123456789abcdefghijklmnopqrstuvwxyz"
KEY_B = "rotation-test-key-B-zyxwvutsrqponmlkjihgfedcba9876543210"


@pytest.fixture
def jane(manager):
    return CustomerFactory(
        assigned_to=manager, national_id="QQ 12 34 56 C", email="Jane.Doe@Mail.example", phone="+44 7700 900123"
    )


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("national_id", "qq123456c"),
        ("national_id", "QQ-12-34-56-C"),
        ("email", " jane.doe@mail.example "),
        ("phone", "+447700900123"),
        ("phone", "0044 7700 900 123"),
    ],
)
def test_a_customer_is_found_by_pii_as_people_type_it(manager, jane, kind, typed):
    CustomerFactory(assigned_to=manager)  # someone else, who must not match

    assert list(customers_by_pii(user=manager, kind=kind, value=typed)) == [jane]


def test_a_lookup_finds_nothing_for_a_different_value(manager, jane):
    assert not customers_by_pii(user=manager, kind="email", value="john.doe@mail.example").exists()
    assert not customers_by_pii(user=manager, kind="email", value="").exists()


def test_a_lookup_only_finds_customers_the_user_may_see(other_manager, jane):
    assert not customers_by_pii(user=other_manager, kind="national_id", value="QQ123456C").exists()


def test_the_index_is_keyed_not_a_plain_hash(jane):
    assert jane.email_index != hashlib.sha256(b"jane.doe@mail.example").hexdigest()
    assert jane.email_index != hashlib.sha256(b"email:jane.doe@mail.example").hexdigest()
    assert "jane" not in jane.email_index


def test_the_index_has_its_own_key(settings, jane):
    settings.BLIND_INDEX_KEY = "another-blind-index-key-0123456789abcdefghijklmnop"

    assert blind_index("email", "jane.doe@mail.example") != jane.email_index


def test_the_index_does_not_depend_on_the_encryption_key(settings, manager):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_A]
    first = CustomerFactory(assigned_to=manager, email="a@mail.example")
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    assert list(customers_by_pii(user=manager, kind="email", value="a@mail.example")) == [first]
    assert blind_index("email", "a@mail.example") == first.email_index


def test_a_second_customer_with_the_same_national_id_is_refused_however_it_is_typed(manager, jane):
    before = Customer.objects.count()

    with pytest.raises(DomainError, match="already has this national id"):
        CustomerFactory(assigned_to=manager, national_id="qq123456c")

    assert Customer.objects.count() == before


def test_lists_show_masked_hints_not_the_values(jane):
    assert jane.email_hint == "J***@Mail.example"
    assert jane.phone_hint == "••••123"
    assert jane.national_id_hint == "••••56C"
