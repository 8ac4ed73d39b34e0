"""Encrypted model fields: wrap django_cryptography's field once, with our key ring.

Values are serialised as JSON (not pickle) before encryption, so what is stored is data,
never code. Encrypted columns support no lookups but `isnull`: look PII up through its
blind index (apps.core.blind_index).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Value
from django.db.models.lookups import IsNull
from django.db.models.query_utils import DeferredAttribute
from django_cryptography.fields import EncryptedMixin

from apps.core.data_keys import Ciphertext, Sealed, cached_key, is_data_key_token, key_id_of, open_token, seal
from apps.core.encryption import keyring


class DecryptingAttribute(DeferredAttribute):
    """Opens a value read under a data key that was not unwrapped yet (one query, then cached)."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        value = super().__get__(instance, cls)
        if instance is not None and isinstance(value, Sealed):
            value = self.field.load_plaintext(open_token(value.token))
            instance.__dict__[self.field.attname] = value
        return value

    # A data descriptor, so __get__ runs even when the value sits in the instance's __dict__.
    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class KeyRingEncryptedMixin(EncryptedMixin):
    """Encrypted under the row's data subject's key when the model names one, else the master key.

    A model whose rows belong to one data subject defines `pii_data_key_id()` (the customer's
    data key, apps.core.data_keys); the value is then sealed in `pre_save`, where the row is
    known. Paths that write without an instance (`QuerySet.update`, `bulk_update`) fall back to
    the master key, which stays readable; `wrap_customer_data_keys` moves such values over.
    """

    wasinstance = True  # deconstruct() keeps this class's own path in migrations
    descriptor_class = DecryptingAttribute

    def _plaintext(self, value: Any) -> bytes:
        return json.dumps(value, cls=DjangoJSONEncoder).encode()

    def _dump(self, value: Any) -> bytes:
        return keyring().encrypt(self._plaintext(value))

    def load_plaintext(self, plaintext: bytes) -> Any:
        return self.base_class.to_python(self, json.loads(plaintext))

    def _load(self, value: bytes) -> Any:
        if is_data_key_token(value):
            fernet = cached_key(key_id_of(value))
            return Sealed(self, value) if fernet is None else self.load_plaintext(open_token(value, fernet))
        return self.load_plaintext(keyring().decrypt(value))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)
        key_of = getattr(model_instance, "pii_data_key_id", None)
        if value in (None, "") or key_of is None:
            return value
        key_id = key_of()
        if key_id is None:
            return value
        prepared = self.base_class.get_prep_value(self, value)
        return seal(key_id, self._plaintext(prepared))

    # A blank value is stored as NULL, not as the ciphertext of "", so `isnull` tells
    # whether anything is stored (e.g. the check that a card number is never kept).
    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, Ciphertext):
            return connection.Database.Binary(bytes(value))
        if isinstance(value, Sealed):  # saved back unopened: the stored bytes, unchanged
            return connection.Database.Binary(value.token)
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


@contextmanager
def sealed_for_bulk_update(objs: Sequence[models.Model], names: Iterable[str]) -> Iterator[None]:
    """`bulk_update` prepares values without their row: seal each under its row's key first.

    Without this, a bulk update would store the values under the master key (still readable,
    but outside the data subject's key, so erasure would not shred them).
    """
    if not objs:
        yield
        return
    fields = [f for f in encrypted_fields(type(objs[0])) if f.name in set(names) or f.attname in set(names)]
    kept = [(obj, f.attname, obj.__dict__.get(f.attname)) for obj in objs for f in fields]
    try:
        for obj, attname, _ in kept:
            obj.__dict__[attname] = obj._meta.get_field(attname).pre_save(obj, False)
        yield
    finally:
        for obj, attname, value in kept:
            obj.__dict__[attname] = value
