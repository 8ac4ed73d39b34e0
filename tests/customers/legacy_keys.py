"""Turn customers back into ones written before per-customer keys (PII under the master key).

The state every customer was in before `wrap_customer_data_keys`: tests of that command and of
master key rotation over legacy rows start from it. Works on the stored bytes with SQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from apps.core.data_keys import is_data_key_token, open_token
from apps.core.encryption import keyring
from apps.customers.models import Customer

CUSTOMER_COLUMNS = ["date_of_birth", "national_id", "email", "phone", "address"]


def _rewrite(table: str, columns: list[str], where: str, ids: list[int]) -> None:
    ring = keyring()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table} WHERE {where} = ANY(%s)", [ids])
        for pk, *values in cursor.fetchall():
            for column, value in zip(columns, values, strict=True):
                if value is not None and is_data_key_token(bytes(value)):
                    token = ring.encrypt(open_token(bytes(value)))
                    cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [token, pk])


def make_legacy(customers: Iterable[Customer]) -> None:
    customers = list(customers)
    ids = [c.pk for c in customers]
    keys = [c.data_key_id for c in customers if c.data_key_id]
    _rewrite("customers_customer", CUSTOMER_COLUMNS, "id", ids)
    _rewrite("customers_identitydocument", ["number"], "customer_id", ids)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET data_key_id = NULL WHERE id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM core_datakey WHERE key_id = ANY(%s)", [keys])
    for customer in customers:
        customer.data_key_id = None
