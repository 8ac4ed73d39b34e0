"""Encrypted model fields: wrap django_cryptography's field once, with our key ring.

Values are serialised as JSON (not pickle) before encryption, so what is stored is data,
never code. Encrypted columns support no lookups but `isnull`: look PII up through its
blind index (apps.core.blind_index).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Value
from django.db.models.lookups import IsNull
from django_cryptography.fields import EncryptedMixin

from apps.core.encryption import keyring


class KeyRingEncryptedMixin(EncryptedMixin):
    wasinstance = True  # deconstruct() keeps this class's own path in migrations

    def _dump(self, value: Any) -> bytes:
        return keyring().encrypt(json.dumps(value, cls=DjangoJSONEncoder).encode())

    def _load(self, value: bytes) -> Any:
        return self.base_class.to_python(self, json.loads(keyring().decrypt(value)))

    # A blank value is stored as NULL, not as the ciphertext of "", so `isnull` tells
    # whether anything is stored (e.g. the check that a card number is never kept).
    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value in (None, ""):
            return None
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if value is None:
            return "" if self.empty_strings_allowed else None
        return super().from_db_value(value, *args, **kwargs)


class BlankIsNull(IsNull):
    """`isnull` that knows a blank value is stored as NULL.

    Model validation checks constraints such as `Q(number__isnull=True)` against the
    instance's in-memory value; Django's own lookup calls "" not null, so a credit card with
    no stored number (`number=""`) would fail a constraint the database accepts.
    """

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if isinstance(self.lhs, Value) and self.lhs.value == "":
            raise FullResultSet if self.rhs else EmptyResultSet
        return super().as_sql(compiler, connection)


KeyRingEncryptedMixin.register_lookup(BlankIsNull)


class EncryptedCharField(KeyRingEncryptedMixin, models.CharField):
    base_class = models.CharField


class EncryptedTextField(KeyRingEncryptedMixin, models.TextField):
    base_class = models.TextField


class EncryptedDateField(KeyRingEncryptedMixin, models.DateField):
    base_class = models.DateField


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, KeyRingEncryptedMixin)]
