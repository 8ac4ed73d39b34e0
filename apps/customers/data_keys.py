"""Move customers created before per-customer keys onto their own data key, resumably.

Each batch is one transaction that locks its customers, gives each a data key, and re-encrypts
the customer's stored PII (and its identity documents' numbers) from the master key to that key.
It works on the stored bytes (as apps.core.rotation does): the plaintext bytes are moved as
they are, so no value can change shape. Reads keep working throughout: a value says in its
header which key wrote it. A rerun starts with the customers still without a key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Case, Value, When

from apps.core.audit import AuditEntry, record_audit_events
from apps.core.data_keys import create_data_keys, data_key_scope, is_data_key_token, seal
from apps.core.encryption import keyring
from apps.core.rotation import raw_columns, write_raw
from apps.customers.models import Customer, IdentityDocument

WRAPPED_ACTION = "encryption.data_keys_assigned"


@dataclass
class WrapResult:
    customers: int = 0
    values: int = 0


def _raw(model: type[models.Model], queryset: models.QuerySet) -> list[tuple[Any, ...]]:
    names, columns = raw_columns(model)
    return [
        (row[0], row[1], dict(zip(names, row[2:], strict=True)))
        for row in queryset.annotate(**columns).values_list("pk", *_owner(model), *columns)
    ]


def _owner(model: type[models.Model]) -> list[str]:
    return ["data_key_id"] if model is Customer else ["customer_id"]


def _moved(values: dict[str, Any], key_id: Any) -> dict[str, bytes]:
    ring = keyring()
    return {
        name: bytes(seal(key_id, ring.decrypt(bytes(token))))
        for name, token in values.items()
        if token is not None and not is_data_key_token(bytes(token))
    }


def wrap_customer_data_keys(
    *, batch_size: int = 500, limit: int | None = None, progress: Callable[[WrapResult], None] | None = None
) -> WrapResult:
    """Give every customer without a data key its own, re-encrypting its PII under it."""
    result = WrapResult()
    with data_key_scope():
        while limit is None or result.customers < limit:
            size = batch_size if limit is None else min(batch_size, limit - result.customers)
            with transaction.atomic():
                ids = list(
                    Customer._base_manager.filter(data_key_id__isnull=True)
                    .order_by("pk")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)[:size]
                )
                if not ids:
                    return result
                keys = dict(zip(ids, create_data_keys(len(ids)), strict=True))
                customer_changes = {
                    pk: _moved(values, keys[pk])
                    for pk, _, values in _raw(Customer, Customer._base_manager.filter(pk__in=ids))
                }
                Customer._base_manager.filter(pk__in=ids).update(
                    data_key_id=Case(*[When(pk=pk, then=Value(k)) for pk, k in keys.items()])
                )
                write_raw(Customer, {pk: c for pk, c in customer_changes.items() if c})
                document_changes = {
                    pk: _moved(values, keys[owner])
                    for pk, owner, values in _raw(
                        IdentityDocument, IdentityDocument._base_manager.filter(customer_id__in=ids)
                    )
                }
                write_raw(IdentityDocument, {pk: c for pk, c in document_changes.items() if c})
                moved = sum(map(len, customer_changes.values())) + sum(map(len, document_changes.values()))
                record_audit_events(
                    [
                        AuditEntry(
                            action=WRAPPED_ACTION,
                            object_type="customers.customer",
                            metadata={"first_pk": ids[0], "last_pk": ids[-1], "count": len(ids), "values": moved},
                        )
                    ]
                )
            result.customers += len(ids)
            result.values += moved
            if progress:
                progress(result)
    return result
