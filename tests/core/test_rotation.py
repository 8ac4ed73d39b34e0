"""Key rotation: rows written under key A read back under key B alone after the command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.accounts.models import Holding
from apps.core.encryption import HEADER_LENGTH, VERSION, EncryptionKey, UndecryptableValue
from apps.core.models import AuditEvent
from apps.customers.models import Customer, IdentityDocument
from apps.customers.services import add_identity_document
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.customers.legacy_keys import make_legacy

KEY_A = "rotation-test-key-A-0123456789abcdefghijklmnopqrstuvwxyz"
KEY_B = "rotation-test-key-B-zyxwvutsrqponmlkjihgfedcba9876543210"
KEY_C = "rotation-test-key-C-never-configured-for-the-ring-000000"


def key_id(secret: str) -> bytes:
    return EncryptionKey.from_secret(secret).key_id


def stored_key_ids(table: str, columns: list[str]) -> set[bytes]:
    """The key id in the header of every non-NULL stored value of these columns (raw SQL)."""
    ids = set()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
        for row in cursor.fetchall():
            for value in row:
                if value is not None:
                    value = bytes(value)
                    assert value[:1] == VERSION
                    ids.add(value[1:HEADER_LENGTH])
    return ids


CUSTOMER_COLUMNS = ["date_of_birth", "national_id", "email", "phone", "address"]


def run(*args: str, stderr: StringIO | None = None) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=stderr or StringIO())
    return out.getvalue()


@pytest.fixture
def data_under_key_a(settings, manager):
    """Customers (one with blank PII), a document and holdings, all written under key A."""
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_A]
    customers = [CustomerFactory(assigned_to=manager) for _ in range(4)]
    blank = CustomerFactory(assigned_to=manager, email="", phone="", address="", date_of_birth=None)
    document = add_identity_document(
        actor=None,
        customer=customers[0],
        document_type=IdentityDocument.DocumentType.PASSPORT,
        number="P1234567",
        issuing_country="gb",
        expiry_date=dt.date(2030, 1, 1),
    )
    holdings = [HoldingFactory(customer=c) for c in customers[:3]]
    # Customers from before per-customer keys: their PII is under the master key.
    make_legacy([*customers, blank])
    expected = {
        "customers": {c.pk: (c.date_of_birth, c.national_id, c.email, c.phone, c.address) for c in [*customers, blank]},
        "document": (document.pk, "P1234567"),
        "holdings": {h.pk: h.number for h in holdings},
    }
    assert stored_key_ids("customers_customer", CUSTOMER_COLUMNS) == {key_id(KEY_A)}
    return expected


def assert_everything_reads_back(expected) -> None:
    for customer in Customer.objects.all():
        wanted = expected["customers"][customer.pk]
        got = (customer.date_of_birth, customer.national_id, customer.email, customer.phone, customer.address)
        assert got == wanted
    doc_pk, number = expected["document"]
    assert IdentityDocument.objects.get(pk=doc_pk).number == number
    for holding in Holding.objects.all():
        assert holding.number == expected["holdings"][holding.pk]


def test_after_rotation_every_row_decrypts_with_the_new_key_alone(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = run()

    assert "every value is under the newest key" in output
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]
    assert_everything_reads_back(data_under_key_a)
    assert stored_key_ids("customers_customer", CUSTOMER_COLUMNS) == {key_id(KEY_B)}
    assert stored_key_ids("customers_identitydocument", ["number"]) == {key_id(KEY_B)}
    assert stored_key_ids("accounts_holding", ["number"]) == {key_id(KEY_B)}


def test_before_rotation_the_new_key_alone_cannot_read_old_rows(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]

    with pytest.raises(UndecryptableValue):
        list(Customer.objects.all())


def test_blank_values_stay_null_through_rotation(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    run()

    blank = Customer.objects.get(email_index__isnull=True)
    assert Customer.objects.filter(pk=blank.pk, email__isnull=True, address__isnull=True).exists()
    assert blank.email == ""


def test_rotation_records_one_audit_event_per_batch_not_per_row(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    before = AuditEvent.objects.count()

    run("--batch-size", "2", "--model", "customers.Customer")

    events = list(AuditEvent.objects.filter(action="encryption.rotated").order_by("id"))
    assert AuditEvent.objects.count() - before == len(events) == 3  # 5 customers in batches of 2
    assert [e.metadata["count"] for e in events] == [2, 2, 1]
    assert events[0].metadata["model"] == "customers.Customer"
    assert events[0].metadata["first_pk"] < events[0].metadata["last_pk"] < events[1].metadata["first_pk"]
    assert events[0].metadata["key_id"] == key_id(KEY_B).hex()
    assert events[0].actor_label == "system"


def test_an_interrupted_rotation_resumes_and_ends_fully_rotated(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    with pytest.raises(CommandError, match="run again to resume") as stopped:
        run("--batch-size", "2", "--limit", "3")
    assert stopped.value.returncode == 1
    assert stored_key_ids("customers_customer", CUSTOMER_COLUMNS) == {key_id(KEY_A), key_id(KEY_B)}

    output = run("--batch-size", "2")

    assert "Customer (date_of_birth, national_id, email, phone, address): 5 rows scanned, 2 re-encrypted" in output
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]
    assert_everything_reads_back(data_under_key_a)


def test_rotating_one_model_leaves_the_others_for_the_next_run(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    run("--model", "customers.Customer")

    assert stored_key_ids("customers_customer", CUSTOMER_COLUMNS) == {key_id(KEY_B)}
    assert stored_key_ids("accounts_holding", ["number"]) == {key_id(KEY_A)}
    run()
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]
    assert_everything_reads_back(data_under_key_a)


def test_a_second_run_finds_nothing_to_do_and_writes_no_audit_event(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    run()
    before = AuditEvent.objects.count()

    output = run()

    assert "Done: 0 row(s) re-encrypted" in output
    assert AuditEvent.objects.count() == before


def test_a_dry_run_counts_without_writing(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    before = AuditEvent.objects.count()

    output = run("--dry-run")

    assert "Dry run: 9 row(s) would be re-encrypted" in output  # 5 customers, 1 document, 3 holdings
    assert AuditEvent.objects.count() == before
    assert stored_key_ids("customers_customer", CUSTOMER_COLUMNS) == {key_id(KEY_A)}


def test_rotation_does_not_touch_updated_at(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    before = dict(Customer.objects.values_list("pk", "updated_at"))

    run()

    assert dict(Customer.objects.values_list("pk", "updated_at")) == before


def test_values_under_an_unconfigured_key_are_reported_and_the_rest_rotated(settings, data_under_key_a):
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_C]
    stray = CustomerFactory(national_id="ZZ999999Z", email="", phone="", address="", date_of_birth=None)
    make_legacy([stray])
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    err = StringIO()

    with pytest.raises(CommandError, match="could not be decrypted") as failed:
        run(stderr=err)

    assert failed.value.returncode == 1
    assert f"customers.Customer #{stray.pk} national_id" in err.getvalue()
    assert stored_key_ids("accounts_holding", ["number"]) == {key_id(KEY_B)}


def test_an_unknown_model_is_a_clear_error(settings):
    with pytest.raises(CommandError, match="no encrypted fields"):
        run("--model", "tasks.Task")
    with pytest.raises(CommandError, match="No model named"):
        run("--model", "nothing.Here")
