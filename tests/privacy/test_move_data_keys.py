"""`manage.py move_data_keys`: customers' data keys moved from the database into a real folder
and back, in batches, resumably, audited, idempotently, with every customer readable throughout
(real PostgreSQL, real files)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.models import AuditEvent, DataKey
from apps.customers.models import Customer
from apps.privacy.services import request_erasure
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def move(*args: str, stderr: StringIO | None = None) -> str:
    out = StringIO()
    call_command("move_data_keys", *args, stdout=out, stderr=stderr or StringIO())
    return out.getvalue()


def material_columns(keys: list) -> list:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        cursor.execute("SELECT material FROM core_datakey WHERE key_id = ANY(%s) ORDER BY key_id", [keys])
        return [row[0] for row in cursor.fetchall()]


def make_customers(manager, count: int = 5) -> list[Customer]:  # type: ignore[no-untyped-def]
    return [
        CustomerFactory(assigned_to=manager, email=f"c{n}@bank.example", national_id=f"QQ65432{n}C")
        for n in range(count)
    ]


def assert_all_read(customers: list[Customer]) -> None:
    for n, customer in enumerate(customers):
        fresh = Customer.objects.get(pk=customer.pk)
        assert (fresh.email, fresh.national_id) == (f"c{n}@bank.example", f"QQ65432{n}C")


@pytest.fixture
def folder(settings, tmp_path) -> Path:
    settings.FINPULSE_DATA_KEY_DIR = str(tmp_path / "keys")
    return tmp_path / "keys"


def test_database_to_directory_in_resumable_audited_batches(settings, folder, manager):
    settings.FINPULSE_DATA_KEY_STORE = "database"
    customers = make_customers(manager)
    keys = [c.data_key_id for c in customers]
    assert all(material_columns(keys))
    settings.FINPULSE_DATA_KEY_STORE = "directory"

    assert "Dry run: 5 key(s) would be moved to directory" in move("--to", "directory", "--dry-run")
    assert not folder.exists()
    with pytest.raises(CommandError, match="2 key\\(s\\) still in the database store; run again") as stopped:
        move("--to", "directory", "--batch-size", "2", "--limit", "3")
    assert stopped.value.returncode == 1
    assert DataKey.objects.filter(pk__in=keys, store="directory").count() == 3
    assert_all_read(customers)  # half moved: every customer still reads

    assert "Done: 2 key(s) moved" in move("--to", "directory", "--batch-size", "2")

    assert DataKey.objects.filter(pk__in=keys, store="directory").count() == 5
    assert material_columns(keys) == [None] * 5  # the database holds no key any more
    assert sorted(p.name for p in folder.glob("*.key")) == sorted(f"{k}.key" for k in keys)
    assert_all_read(customers)
    events = AuditEvent.objects.filter(action="encryption.data_keys_moved").order_by("id")
    assert [(e.metadata["count"], e.metadata["from"], e.metadata["to"]) for e in events] == [
        (2, "database", "directory"),
        (1, "database", "directory"),
        (2, "database", "directory"),
    ]
    assert "Done: 0 key(s) moved" in move("--to", "directory")  # idempotent
    assert AuditEvent.objects.filter(action="encryption.data_keys_moved").count() == 3


def test_an_erasure_after_the_move_shreds_the_moved_key_file(
    settings, folder, manager, compliance_officer, django_capture_on_commit_callbacks
):
    settings.FINPULSE_DATA_KEY_STORE = "database"
    customer = make_customers(manager, 1)[0]
    settings.FINPULSE_DATA_KEY_STORE = "directory"
    move("--to", "directory")
    assert (folder / f"{customer.data_key_id}.key").is_file()

    with django_capture_on_commit_callbacks(execute=True):
        request_erasure(actor=compliance_officer, customer=Customer.objects.get(pk=customer.pk), reference="DSAR-9")

    assert not (folder / f"{customer.data_key_id}.key").exists()
    assert Customer.objects.get(pk=customer.pk).email == ""


def test_directory_to_database_puts_the_keys_back_and_shreds_the_files(
    settings, folder, manager, django_capture_on_commit_callbacks
):
    settings.FINPULSE_DATA_KEY_STORE = "directory"
    customers = make_customers(manager)
    keys = [c.data_key_id for c in customers]
    assert len(list(folder.glob("*.key"))) == 5
    settings.FINPULSE_DATA_KEY_STORE = "database"

    with django_capture_on_commit_callbacks(execute=True):
        output = move("--to", "database", "--batch-size", "3")

    assert "Done: 5 key(s) moved; every live key is in the database store." in output
    assert not list(folder.glob("*.key"))  # shredded once each batch committed
    assert all(material_columns(keys))
    assert_all_read(customers)  # with no folder left, the keys come from the database
    events = AuditEvent.objects.filter(action="encryption.data_keys_moved", metadata__to="database")
    assert sorted(e.metadata["count"] for e in events) == [2, 3]


def test_a_missing_file_is_named_left_in_place_and_the_rest_moves(settings, folder, manager):
    settings.FINPULSE_DATA_KEY_STORE = "directory"
    customers = make_customers(manager, 3)
    lost = customers[1].data_key_id
    (folder / f"{lost}.key").unlink()
    settings.FINPULSE_DATA_KEY_STORE = "database"
    errors = StringIO()

    with pytest.raises(CommandError, match="1 key\\(s\\) could not be read"):
        move("--to", "database", stderr=errors)

    assert f"Key {lost}: its file is missing" in errors.getvalue()
    assert DataKey.objects.get(pk=lost).store == "directory"
    assert (
        DataKey.objects.filter(store="database", pk__in=[customers[0].data_key_id, customers[2].data_key_id]).count()
        == 2
    )


def test_moving_against_the_configured_store_is_refused(settings, folder, manager):
    settings.FINPULSE_DATA_KEY_STORE = "database"
    make_customers(manager, 1)

    with pytest.raises(CommandError, match="FINPULSE_DATA_KEY_STORE is 'database': set it to 'directory'"):
        move("--to", "directory")

    assert not folder.exists()
    assert not DataKey.objects.filter(store="directory").exists()
