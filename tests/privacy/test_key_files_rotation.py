"""Master key rotation with the `directory` data-key store: `rotate_encryption_key` re-wraps the
key files too, so once the old master key leaves the ring every customer's PII still decrypts,
and an erasure after the rotation still shreds the (re-wrapped) key file."""

from __future__ import annotations

import base64
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.core.encryption import HEADER_LENGTH, EncryptionKey
from apps.core.models import AuditEvent, DataKey
from apps.customers.models import Customer, IdentityDocument
from apps.customers.services import add_identity_document
from apps.privacy.services import request_erasure
from tests.customers.factories import CustomerFactory
from tests.privacy.conftest import PII

pytestmark = pytest.mark.django_db

KEY_A = "key-files-test-master-A-0123456789abcdefghijklmnopqrstuvwxyz"
KEY_B = "key-files-test-master-B-zyxwvutsrqponmlkjihgfedcba9876543210"


def wrapping_key_ids(folder: Path) -> dict[str, bytes]:
    """{file name: id of the master key that wrapped it}, read from the files themselves."""
    return {path.name: base64.b64decode(path.read_bytes())[1:HEADER_LENGTH] for path in folder.glob("*.key")}


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def customers_with_key_files(settings, tmp_path, manager):
    settings.FINPULSE_DATA_KEY_STORE = "directory"
    settings.FINPULSE_DATA_KEY_DIR = str(tmp_path / "keys")
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_A]
    customers = [
        CustomerFactory(
            assigned_to=manager,
            first_name=name,
            last_name="Lovelace",
            **{**PII, "email": f"{name}@x.org", "national_id": f"QQ12345{number}C"},
        )
        for number, name in enumerate(("ada", "byron", "clara", "dora", "emma"))
    ]
    add_identity_document(
        actor=None, customer=customers[0], document_type="passport", number="P1122334", issuing_country="gb"
    )
    assert DataKey.objects.filter(store="directory", material__isnull=True).count() == 5
    a = EncryptionKey.from_secret(KEY_A).key_id
    assert set(wrapping_key_ids(tmp_path / "keys").values()) == {a}
    return customers, tmp_path / "keys"


def test_after_rotation_the_new_master_key_alone_opens_every_key_file(settings, customers_with_key_files):
    customers, folder = customers_with_key_files
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = rotate()

    assert "key files (wrapped key): 5 rows scanned, 5 re-encrypted." in output
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]  # the old master key is gone from the ring
    assert set(wrapping_key_ids(folder).values()) == {EncryptionKey.from_secret(KEY_B).key_id}
    for customer in customers:
        fresh = Customer.objects.get(pk=customer.pk)
        assert fresh.email == f"{customer.first_name}@x.org"
        assert fresh.national_id.startswith("QQ12345")
        assert fresh.date_of_birth == PII["date_of_birth"]
    assert IdentityDocument.objects.get(customer=customers[0]).number == "P1122334"
    events = AuditEvent.objects.filter(action="encryption.rotated", metadata__model="key files")
    assert [e.metadata["count"] for e in events] == [5]
    assert "key files (wrapped key): 5 rows scanned, 0 would re-encrypt." in rotate("--dry-run")


def test_without_rotation_dropping_the_old_master_key_loses_the_customers(settings, customers_with_key_files):
    """The failure the rotation prevents: files still wrapped by A are unreadable under [B]."""
    customers, _ = customers_with_key_files
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]

    with pytest.raises(Exception, match="data key was destroyed"):
        Customer.objects.get(pk=customers[0].pk).email  # noqa: B018


def test_an_interrupted_file_rotation_resumes(settings, customers_with_key_files):
    _, folder = customers_with_key_files
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]

    with pytest.raises(CommandError, match="key files still ha"):
        rotate("--model", "core.DataKey", "--batch-size", "2", "--limit", "3")
    b = EncryptionKey.from_secret(KEY_B).key_id
    assert list(wrapping_key_ids(folder).values()).count(b) == 3

    assert "2 re-encrypted" in rotate("--model", "core.DataKey", "--batch-size", "2")
    assert set(wrapping_key_ids(folder).values()) == {b}
    assert not list(folder.glob("*.tmp"))


def test_a_missing_key_file_is_reported_and_the_run_exits_1(settings, customers_with_key_files):
    customers, folder = customers_with_key_files
    (folder / f"{customers[1].data_key_id}.key").unlink()
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    errors = StringIO()

    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_key", stdout=StringIO(), stderr=errors)

    assert f"key files #{customers[1].data_key_id} file: the key's file is missing" in errors.getvalue()


def test_an_erasure_after_the_rotation_still_shreds_the_key_file(
    settings, customers_with_key_files, compliance_officer, django_capture_on_commit_callbacks
):
    customers, folder = customers_with_key_files
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    rotate()
    settings.FINPULSE_ENCRYPTION_KEYS = [KEY_B]
    erased = Customer.objects.get(pk=customers[4].pk)  # no document, no holding: nothing held

    with django_capture_on_commit_callbacks(execute=True):
        request_erasure(actor=compliance_officer, customer=erased, reference="DSAR-19")

    assert not (folder / f"{erased.data_key_id}.key").exists()
    assert DataKey.objects.get(pk=erased.data_key_id).destroyed_at is not None
    assert Customer.objects.get(pk=erased.pk).email == ""
    assert len(list(folder.glob("*.key"))) == 4
    assert Customer.objects.get(pk=customers[3].pk).email == "dora@x.org"
