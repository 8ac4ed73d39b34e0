"""Re-encrypt PII under the newest key, in batches, resumably.

Rotation works on the stored bytes, never on the Python values: the key id in each
ciphertext's header (apps.core.encryption) says whether a value is already under the newest
key, so a rerun skips what an earlier (interrupted) run finished, and re-encryption is
`encrypt(decrypt(token))` of the exact plaintext bytes, so no value can change shape on the
way through. Each batch is one transaction that locks its rows (a concurrent service write
waits instead of being overwritten with the old plaintext) and records one audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import BinaryField, Case, ExpressionWrapper, F, Value, When
from django.db.models.functions import Cast

from apps.core import key_store
from apps.core.audit import AuditEntry, record_audit_events
from apps.core.data_keys import is_data_key_token
from apps.core.encryption import UndecryptableValue, keyring
from apps.core.fields import encrypted_fields

DEFAULT_BATCH_SIZE = 1000
ROTATED_ACTION = "encryption.rotated"
KEY_FILES = "key files"  # what the directory store's files are called in output and audit


@dataclass(frozen=True)
class UnreadableValue:
    """A stored value no configured key decrypts: reported, left as it is."""

    model: str
    pk: Any
    field: str
    reason: str


@dataclass
class BatchResult:
    model: str
    first_pk: Any
    last_pk: Any
    scanned: int
    rotated: int  # rows rewritten (or, in a dry run, rows that would be)


@dataclass
class ModelRotation:
    model: str
    fields: list[str]
    scanned: int = 0
    rotated: int = 0
    unreadable: list[UnreadableValue] = field(default_factory=list)
    stopped_early: bool = False  # the row limit ran out before the end of the table


def models_with_encrypted_fields(label: str | None = None) -> list[type[models.Model]]:
    """Every concrete model with encrypted columns, or the one named `app_label.Model`."""
    if label:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as error:
            raise LookupError(f"No model named {label!r} (expected app_label.Model).") from error
        if not encrypted_fields(model):
            raise LookupError(f"{model._meta.label} has no encrypted fields.")
        return [model]
    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed and encrypted_fields(model)
    ]


def raw_columns(model: type[models.Model]) -> tuple[list[str], dict[str, ExpressionWrapper]]:
    """The model's encrypted attnames, and annotations that select their stored bytes.

    Selected through a BinaryField wrapper, a column comes back as the ciphertext as stored
    instead of being decrypted by its field: rotation and the move to data keys work on bytes.
    """
    names = [f.attname for f in encrypted_fields(model)]
    return names, {f"_raw_{name}": ExpressionWrapper(F(name), output_field=BinaryField()) for name in names}


def _raw_batches(
    model: type[models.Model], batch_size: int, *, lock: bool, after: Any = None
) -> Iterator[list[tuple[Any, dict[str, bytes | None]]]]:
    """(pk, {attname: stored bytes or None}) in primary-key order, one list per batch.

    The columns are the stored ciphertext (raw_columns). With `lock`, each batch's rows are locked
    (SELECT ... FOR UPDATE); the caller must then consume the batch inside a transaction.
    """
    names, columns = raw_columns(model)
    last = after
    while True:
        queryset = model._base_manager.order_by("pk")
        if lock:
            queryset = queryset.select_for_update(skip_locked=False)
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        rows = list(queryset.annotate(**columns).values_list("pk", *columns)[:batch_size])
        if not rows:
            return
        yield [(row[0], {name: _as_bytes(value) for name, value in zip(names, row[1:], strict=True)}) for row in rows]
        last = rows[-1][0]
        if len(rows) < batch_size:
            return


def _as_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _stale_values(
    model: type[models.Model], pk: Any, values: dict[str, bytes | None], unreadable: list[UnreadableValue]
) -> dict[str, bytes]:
    """{attname: new ciphertext} for the values of one row not yet under the newest key."""
    ring = keyring()
    fresh = {}
    for name, token in values.items():
        if token is None or ring.is_current(token) or is_data_key_token(token):
            # NULL means blank: nothing stored, nothing to rotate. A value under a data subject's
            # own key is not under the master key: rotating DataKey re-wraps its key instead.
            continue
        try:
            fresh[name] = ring.encrypt(ring.decrypt(token))
        except UndecryptableValue as error:
            unreadable.append(UnreadableValue(model._meta.label, pk, name, str(error)))
    return fresh


def write_raw(model: type[models.Model], changes: dict[Any, dict[str, bytes]]) -> None:
    """One UPDATE per column, of only the rows whose value in that column changed.

    The new ciphertext goes in as bytes (a BinaryField value), bypassing the encrypted
    field's own encryption; `updated_at` is left alone because no business data changed.
    """
    by_column: dict[str, dict[Any, bytes]] = {}
    for pk, columns in changes.items():
        for name, token in columns.items():
            by_column.setdefault(name, {})[pk] = token
    for name, tokens in by_column.items():
        new_value = Case(
            *[When(pk=pk, then=Value(token, output_field=BinaryField())) for pk, token in tokens.items()],
            default=F(name),
            output_field=BinaryField(),
        )
        model._base_manager.filter(pk__in=list(tokens)).update(**{name: Cast(new_value, BinaryField())})


def rotate_model(
    model: type[models.Model],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Callable[[BatchResult], None] | None = None,
) -> ModelRotation:
    """Re-encrypt this model's values that are not under the newest key.

    `limit` caps the rows rewritten in this run (the rest waits for the next run); a dry run
    reads without locking and only counts. Unreadable values are collected, not fatal, so
    one run reports all of them.
    """
    label = model._meta.label
    result = ModelRotation(model=label, fields=[f.name for f in encrypted_fields(model)])
    if dry_run:
        for rows in _raw_batches(model, batch_size, lock=False):
            stale = [pk for pk, values in rows if _stale_values(model, pk, values, result.unreadable)]
            result.scanned += len(rows)
            result.rotated += len(stale)
            if progress:
                progress(BatchResult(label, rows[0][0], rows[-1][0], len(rows), len(stale)))
        return result

    last = None
    while True:
        remaining = None if limit is None else limit - result.rotated
        if remaining is not None and remaining <= 0:
            result.stopped_early = _any_stale_after(model, last, batch_size)
            return result
        with transaction.atomic():
            rows = next(_raw_batches(model, batch_size, lock=True, after=last), [])
            if not rows:
                return result
            changes: dict[Any, dict[str, bytes]] = {}
            for pk, values in rows:
                if remaining is not None and len(changes) >= remaining:
                    break
                fresh = _stale_values(model, pk, values, result.unreadable)
                if fresh:
                    changes[pk] = fresh
                last = pk
            scanned = sum(1 for pk, _ in rows if pk <= last)
            if changes:
                write_raw(model, changes)
                record_audit_events(
                    [
                        AuditEntry(
                            action=ROTATED_ACTION,
                            actor=None,
                            object_type=model._meta.label_lower,
                            metadata={
                                "model": label,
                                "first_pk": min(changes),
                                "last_pk": max(changes),
                                "count": len(changes),
                                "key_id": keyring().current.key_id.hex(),
                            },
                        )
                    ]
                )
        result.scanned += scanned
        result.rotated += len(changes)
        if progress:
            progress(BatchResult(label, rows[0][0], last, scanned, len(changes)))
        if len(rows) < batch_size and last == rows[-1][0]:
            return result


def _any_stale_after(model: type[models.Model], after: Any, batch_size: int) -> bool:
    """Whether a row after `after` still needs rotating (read-only, stops at the first)."""
    ignored: list[UnreadableValue] = []
    for rows in _raw_batches(model, batch_size, lock=False, after=after):
        if any(_stale_values(model, pk, values, ignored) for pk, values in rows):
            return True
    return False


def rotate_key_files(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Callable[[BatchResult], None] | None = None,
) -> ModelRotation:
    """Re-wrap the live data keys of the `directory` store whose file is not under the newest key.

    Same contract as `rotate_model`: batches in key-id order, each locking its `DataKey` rows (an
    erasure of one of them waits, then shreds the re-wrapped file), one audit event per batch, a
    rerun skips the files already re-wrapped. A missing or unreadable file is reported, not fatal.
    """
    from apps.core.models import DataKey

    result = ModelRotation(model=KEY_FILES, fields=["wrapped key"])
    ring = keyring()
    live = DataKey._base_manager.filter(store=key_store.DIRECTORY, destroyed_at__isnull=True).order_by("pk")
    last = None
    while True:
        remaining = None if limit is None else limit - result.rotated
        if remaining is not None and remaining <= 0:
            rest = live.filter(pk__gt=last) if last is not None else live
            keys_left = rest.values_list("pk", flat=True).iterator(chunk_size=batch_size)
            result.stopped_early = any(_stale_file(key_id, ring, []) is not None for key_id in keys_left)
            return result
        with transaction.atomic():
            batch = live if dry_run else live.select_for_update()
            if last is not None:
                batch = batch.filter(pk__gt=last)
            key_ids = list(batch.values_list("pk", flat=True)[:batch_size])
            if not key_ids:
                return result
            stale: dict[Any, bytes] = {}
            scanned = 0
            for key_id in key_ids:
                if remaining is not None and len(stale) >= remaining:
                    break
                scanned += 1
                last = key_id
                material = _stale_file(key_id, ring, result.unreadable)
                if material is not None:
                    stale[key_id] = material
            if stale and not dry_run:
                for key_id, material in stale.items():
                    key_store.replace_key(key_id, material)
                record_audit_events(
                    [
                        AuditEntry(
                            action=ROTATED_ACTION,
                            actor=None,
                            object_type="core.datakey",
                            metadata={
                                "model": KEY_FILES,
                                "first_pk": str(min(stale)),
                                "last_pk": str(max(stale)),
                                "count": len(stale),
                                "key_id": ring.current.key_id.hex(),
                            },
                        )
                    ]
                )
        result.scanned += scanned
        result.rotated += len(stale)
        if progress:
            progress(BatchResult(KEY_FILES, key_ids[0], last, scanned, len(stale)))
        if len(key_ids) < batch_size and last == key_ids[-1]:
            return result


def _stale_file(key_id: Any, ring: Any, unreadable: list[UnreadableValue]) -> bytes | None:
    """The key's material when its file is not under the newest master key; None when it is."""
    wrapped = key_store.read_wrapped(key_id)
    if wrapped is None:
        unreadable.append(UnreadableValue(KEY_FILES, key_id, "file", "the key's file is missing"))
        return None
    if ring.is_current(wrapped):
        return None
    try:
        return bytes(ring.decrypt(wrapped))
    except UndecryptableValue as error:
        unreadable.append(UnreadableValue(KEY_FILES, key_id, "file", str(error)))
        return None
