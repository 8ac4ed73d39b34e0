"""Data keys outside the database (FINPULSE_DATA_KEY_STORE=directory): a full pg_dump of the
application database taken before an erasure, restored into a scratch database, cannot decrypt
the customer's personal data after the erasure; with the default database store it still can
(the honest limit docs/compliance.md states). Real pg_dump, real pg_restore."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from apps.core import key_store
from apps.core.data_keys import HEADER_LENGTH, _fernet, key_id_of
from apps.core.models import DataKey
from apps.customers.models import Customer
from apps.privacy.services import request_erasure
from tests.customers.factories import CustomerFactory
from tests.privacy.conftest import PII, pg_conninfo, pg_tool

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def restored_dump(tmp_path):  # type: ignore[no-untyped-def]
    """Take a full dump of the application database now; later, restore it into a scratch
    database and return a connection to it."""
    scratch = f"fp_keystore_scratch_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "before.dump"
    connections: list[psycopg.Connection] = []

    def take() -> Path:
        pg_tool("pg_dump", "--format=custom", f"--file={dump}", connection.settings_dict["NAME"])
        return dump

    def restore() -> psycopg.Connection:
        pg_tool("createdb", scratch)
        pg_tool("pg_restore", "--no-owner", f"--dbname={scratch}", str(dump))
        info = pg_conninfo()
        conn = psycopg.connect(dbname=scratch, **info)
        connections.append(conn)
        return conn

    yield take, restore
    for conn in connections:
        conn.close()
    pg_tool("dropdb", "--if-exists", scratch)


def _read_with_the_dump(conn: psycopg.Connection, customer_id: int) -> bytes:
    """What someone holding the dump, the master key and the key store can read of the email."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT email FROM customers_customer WHERE id = %s", [customer_id])
        token = bytes(cursor.fetchone()[0])
        key_id = key_id_of(token)
        cursor.execute("SELECT material FROM core_datakey WHERE key_id = %s", [key_id])
        material_column = cursor.fetchone()[0]
    if material_column is not None:  # the database store: the key is in the dump (master-key wrapped)
        field = DataKey._meta.get_field("material")
        material = base64.b64decode(field.from_db_value(bytes(material_column), None, connection))
    else:  # the directory store: only the key file can open it
        material = key_store.read_key(key_id)
        if material is None:
            raise LookupError("The key is in neither the dump nor the key store.")
    return _fernet(material).decrypt(token[HEADER_LENGTH:])


def _erase(officer, customer) -> None:  # type: ignore[no-untyped-def]
    request_erasure(actor=officer, customer=customer, reference="DSAR-7")


def test_with_the_directory_store_a_dump_from_before_the_erasure_cannot_decrypt_after_it(
    settings, tmp_path, compliance_officer, manager, restored_dump
):
    settings.FINPULSE_DATA_KEY_STORE = "directory"
    settings.FINPULSE_DATA_KEY_DIR = str(tmp_path / "keys")
    customer = CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lovelace", **PII)
    key = DataKey.objects.get(pk=customer.data_key_id)
    assert key.store == "directory"
    assert DataKey.objects.filter(pk=key.pk, material__isnull=True).exists()  # the key is not in the database
    assert (tmp_path / "keys" / f"{key.pk}.key").is_file()
    take, restore = restored_dump
    take()
    before = restore()
    assert b"ada.lovelace@example.org" in _read_with_the_dump(before, customer.pk)  # readable before
    scratch = before.info.dbname
    before.close()

    _erase(compliance_officer, customer)

    assert not (tmp_path / "keys" / f"{key.pk}.key").exists()
    pg_tool("dropdb", scratch)  # restore the same old dump afresh
    after = restore()
    with pytest.raises(LookupError):
        _read_with_the_dump(after, customer.pk)
    assert Customer.objects.get(pk=customer.pk).email == ""


def test_with_the_database_store_a_full_dump_from_before_still_holds_the_key(
    settings, compliance_officer, manager, restored_dump
):
    """The documented limit of the default store: only a dump without core_datakey is safe."""
    settings.FINPULSE_DATA_KEY_STORE = "database"
    customer = CustomerFactory(assigned_to=manager, first_name="Ada", last_name="Lovelace", **PII)
    take, restore = restored_dump
    take()

    _erase(compliance_officer, customer)

    assert b"ada.lovelace@example.org" in _read_with_the_dump(restore(), customer.pk)
