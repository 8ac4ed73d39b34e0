"""Per-data-subject keys (envelope encryption) so erasing a customer is destroying one key.

A customer's personal data is encrypted under that customer's own data key; the data key is
stored wrapped by the master key ring (`DataKey.material`, an encrypted field, so master key
rotation re-wraps it). Erasure destroys the key (`destroy_data_key`): every copy of the
ciphertext, in the table or in a backup of the business data, becomes unreadable (GDPR Art. 17,
crypto-shredding; docs/compliance.md says which backups that covers).

Stored format of a value under a data key: VERSION (0x02) + key id (16 bytes, the DataKey's
UUID) + a django_cryptography Fernet token keyed by that data key. Values under the master key
keep the 0x01 format (apps.core.encryption) and stay readable: `wrap_customer_data_keys` moves
existing customers over, batch by batch.

Unwrapped keys are cached for one request (or one `data_key_scope()` block) only, and a
queryset of many rows loads the keys it needs in one query (`open_sealed_in_bulk`), so a list
never costs a query per row.
"""

from __future__ import annotations

import base64
import contextvars
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import models
from django.utils import timezone
from django_cryptography.core.signing import BadSignature, FernetSigner
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

from apps.core import key_store
from apps.core.encryption import UndecryptableValue

VERSION = b"\x02"
KEY_ID_LENGTH = 16
HEADER_LENGTH = len(VERSION) + KEY_ID_LENGTH
KEY_BYTES = 32


class DestroyedKey(UndecryptableValue):
    """The data key of this value was destroyed (the data subject was erased)."""


class Sealed:
    """A value read from the database whose data key is not unwrapped yet.

    The encrypted field's descriptor opens it on first access (one query); a queryset opens all
    of its rows' values in one query (apps.core.data_keys.DataKeyQuerySet).
    """

    __slots__ = ("field", "token")

    def __init__(self, field: Any, token: bytes) -> None:
        self.field = field  # the encrypted field, which turns the plaintext back into a value
        self.token = token

    @property
    def key_id(self) -> uuid.UUID:
        return key_id_of(self.token)

    def __repr__(self) -> str:
        return f"<Sealed under data key {self.key_id}>"


class Ciphertext(bytes):
    """Bytes already encrypted by `seal` (pre_save): the field stores them as they are."""


def is_data_key_token(token: bytes) -> bool:
    return token[:1] == VERSION


def key_id_of(token: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=token[len(VERSION) : HEADER_LENGTH])


def _fernet(material: bytes) -> FernetBytes:
    def derive(purpose: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"finpulse-data-key", info=purpose).derive(material)

    return FernetBytes(key=derive(b"aes-256-cbc"), signer=FernetSigner(key=derive(b"hmac-sha256")))


# The current request's (or scope's) unwrapped keys; None outside a scope: nothing is kept.
_cache: contextvars.ContextVar[dict[uuid.UUID, FernetBytes | None] | None] = contextvars.ContextVar(
    "data_key_cache", default=None
)


@contextmanager
def data_key_scope() -> Iterator[None]:
    """Keep unwrapped keys for the length of this block (a request, a batch, a command)."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def _remember(keys: Mapping[uuid.UUID, FernetBytes | None]) -> None:
    cache = _cache.get()
    if cache is not None:
        cache.update(keys)


def _data_key_model() -> type[models.Model]:
    from apps.core.models import DataKey

    return DataKey


def load_keys(key_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, FernetBytes | None]:
    """Unwrap these keys (one query for those not cached); None for a destroyed or unknown key."""
    cache = _cache.get() or {}
    wanted = set(key_ids)
    found = {key_id: cache[key_id] for key_id in wanted if key_id in cache}
    missing = wanted - set(found)
    if missing:
        rows = {
            key_id: (material, store, destroyed_at)
            for key_id, material, store, destroyed_at in _data_key_model()
            ._base_manager.filter(key_id__in=missing)
            .values_list("key_id", "material", "store", "destroyed_at")
        }
        fresh = {key_id: _unwrap(key_id, *rows[key_id]) if key_id in rows else None for key_id in missing}
        _remember(fresh)
        found.update(fresh)
    return found


def _unwrap(key_id: uuid.UUID, material: str | None, store: str, destroyed_at: object) -> FernetBytes | None:
    """The key from its store (apps.core.key_store); None when destroyed."""
    if destroyed_at is not None:
        return None
    if store == key_store.DIRECTORY:
        raw = key_store.read_key(key_id)
        return _fernet(raw) if raw is not None else None
    return _fernet(base64.b64decode(material)) if material else None


def _key(key_id: uuid.UUID) -> FernetBytes:
    fernet = load_keys([key_id])[key_id]
    if fernet is None:
        raise DestroyedKey("This value's data key was destroyed (the data subject was erased).")
    return fernet


def create_data_keys(count: int) -> list[uuid.UUID]:
    """New data keys, wrapped by the master key ring, in one INSERT; their ids in order."""
    if count == 0:
        return []
    model = _data_key_model()
    keys = {uuid.uuid4(): os.urandom(KEY_BYTES) for _ in range(count)}
    store = key_store.current_store()
    if store == key_store.DIRECTORY:
        # The key leaves the database: the row records only that it exists (and later, its end).
        key_store.write_keys(keys)
        rows = [model(key_id=key_id, material=None, store=store) for key_id in keys]
    else:
        rows = [
            model(key_id=key_id, material=base64.b64encode(material).decode(), store=store)
            for key_id, material in keys.items()
        ]
    model._base_manager.bulk_create(rows)
    _remember({key_id: _fernet(material) for key_id, material in keys.items()})
    return list(keys)


def give_data_keys(objs: Iterable[models.Model]) -> None:
    """Give each new row without a data key its own, in one INSERT (bulk paths: imports)."""
    keyless = [obj for obj in objs if getattr(obj, "data_key_id", False) is None]
    for obj, key_id in zip(keyless, create_data_keys(len(keyless)), strict=True):
        obj.data_key_id = key_id  # type: ignore[attr-defined]


def create_data_key() -> uuid.UUID:
    return create_data_keys(1)[0]


def destroy_data_key(key_id: uuid.UUID, *, reason: str) -> bool:
    """Destroy the key (crypto-shredding); True if a live key was destroyed. Irreversible.

    In the database store the column is cleared; in the directory store the key's file is
    overwritten and deleted when the surrounding transaction commits (apps.core.key_store)."""
    keys = _data_key_model()._base_manager.filter(key_id=key_id, destroyed_at__isnull=True)
    store = keys.values_list("store", flat=True).first()
    destroyed = keys.update(material=None, destroyed_at=timezone.now(), destroyed_reason=reason[:200])
    if destroyed and store == key_store.DIRECTORY:
        key_store.destroy_key_file(key_id)
    _remember({key_id: None})
    return bool(destroyed)


def seal(key_id: uuid.UUID, plaintext: bytes) -> Ciphertext:
    return Ciphertext(VERSION + key_id.bytes + _key(key_id).encrypt(plaintext))


def open_token(token: bytes, fernet: FernetBytes | None = None) -> bytes:
    fernet = fernet if fernet is not None else _key(key_id_of(token))
    try:
        return fernet.decrypt(token[HEADER_LENGTH:])
    except (BadSignature, InvalidToken) as exc:
        raise UndecryptableValue("The value's signature does not match its data key.") from exc


def cached_key(key_id: uuid.UUID) -> FernetBytes | None:
    cache = _cache.get()
    return cache.get(key_id) if cache is not None else None


def open_sealed_in_bulk(rows: list[Any]) -> list[Any]:
    """Open every Sealed value in these queryset results with one query for their keys.

    Rows are model instances (opened in place), tuples or dicts (rebuilt). A value whose key
    was destroyed stays Sealed: reading it raises DestroyedKey.
    """
    sealed: list[Sealed] = []
    for row in rows:
        if isinstance(row, models.Model):
            sealed.extend(v for v in row.__dict__.values() if isinstance(v, Sealed))
        elif isinstance(row, dict):
            sealed.extend(v for v in row.values() if isinstance(v, Sealed))
        elif isinstance(row, tuple):
            sealed.extend(v for v in row if isinstance(v, Sealed))
        elif isinstance(row, Sealed):
            sealed.append(row)
    if not sealed:
        return rows
    keys = load_keys({value.key_id for value in sealed})

    def opened(value: Any) -> Any:
        if isinstance(value, Sealed) and keys.get(value.key_id) is not None:
            return value.field.load_plaintext(open_token(value.token, keys[value.key_id]))
        return value

    result = []
    for row in rows:
        if isinstance(row, models.Model):
            for name, value in list(row.__dict__.items()):
                if isinstance(value, Sealed):
                    row.__dict__[name] = opened(value)
            result.append(row)
        elif isinstance(row, dict):
            result.append({name: opened(value) for name, value in row.items()})
        elif isinstance(row, tuple):
            result.append(type(row)(*map(opened, row)) if hasattr(row, "_fields") else tuple(map(opened, row)))
        else:
            result.append(opened(row))
    return result


class DataKeyQuerySet(models.QuerySet):
    """A queryset of rows with per-customer encrypted values: one key query per evaluation."""

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._result_cache:
            self._result_cache = open_sealed_in_bulk(self._result_cache)

    def _iterator(self, use_chunked_fetch: bool, chunk_size: int | None) -> Iterator[Any]:
        """`.iterator()`: the keys of each chunk of rows in one query."""
        rows = super()._iterator(use_chunked_fetch, chunk_size)
        while chunk := list(islice(rows, chunk_size or 2000)):
            yield from open_sealed_in_bulk(chunk)
