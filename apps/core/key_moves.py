"""Move customers' data keys from one store to the other (apps.core.key_store), in batches.

`manage.py move_data_keys --to directory` takes every live key whose material is in
`core_datakey` and writes it to its file under `FINPULSE_DATA_KEY_DIR`, then clears the column;
`--to database` reads each file back into the column and shreds the file once the batch commits.
Each batch is one transaction that locks its `DataKey` rows (an erasure of one of them waits,
then destroys the key where it now lives) and records one audit event
`encryption.data_keys_moved`. A key already in the target store is not selected again, so a run
stopped by `--limit`, a crash or a deploy resumes where it stopped, and a finished run repeated
moves nothing. Reads work throughout: each row says where its key is.

A file written for a batch whose transaction then fails is rewritten by the next run (the same
key, wrapped afresh), never trusted as it is.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from apps.core import key_store
from apps.core.audit import AuditEntry, record_audit_events

MOVED_ACTION = "encryption.data_keys_moved"
DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class MovedBatch:
    first: uuid.UUID
    last: uuid.UUID
    moved: int


@dataclass
class KeyMove:
    source: str
    target: str
    moved: int = 0
    missing: list[uuid.UUID] = field(default_factory=list)  # keys whose file is gone or unreadable
    remaining: int = 0  # live keys still in the source store when the run ended


def _data_keys():  # type: ignore[no-untyped-def]
    from apps.core.models import DataKey

    return DataKey._base_manager


def move_data_keys(
    target: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Callable[[MovedBatch], None] | None = None,
) -> KeyMove:
    """Move every live data key into `target` ("database" or "directory"); see the module."""
    if target not in key_store.STORES:
        raise ValueError(f"Unknown data-key store {target!r}.")
    source = key_store.DATABASE if target == key_store.DIRECTORY else key_store.DIRECTORY
    result = KeyMove(source=source, target=target)
    pending = _data_keys().filter(store=source, destroyed_at__isnull=True).order_by("pk")
    if dry_run:
        result.remaining = pending.count()
        return result
    skipped: set[uuid.UUID] = set()  # missing files stay in the source store; do not retry them
    while limit is None or result.moved < limit:
        size = batch_size if limit is None else min(batch_size, limit - result.moved)
        with transaction.atomic():
            rows = list(pending.exclude(pk__in=skipped).select_for_update().values_list("pk", "material")[:size])
            if not rows:
                break
            moved = _to_directory(rows) if target == key_store.DIRECTORY else _to_database(rows, result.missing)
            skipped.update(key_id for key_id, _ in rows if key_id not in moved)
            if moved:
                record_audit_events(
                    [
                        AuditEntry(
                            action=MOVED_ACTION,
                            actor=None,
                            object_type="core.datakey",
                            metadata={
                                "from": source,
                                "to": target,
                                "count": len(moved),
                                "first_key": str(min(moved)),
                                "last_key": str(max(moved)),
                            },
                        )
                    ]
                )
        result.moved += len(moved)
        if progress and moved:
            progress(MovedBatch(min(moved), max(moved), len(moved)))
    result.remaining = pending.count()
    return result


def _to_directory(rows: list[tuple[uuid.UUID, str | None]]) -> list[uuid.UUID]:
    for key_id, material in rows:
        key_store.replace_key(key_id, base64.b64decode(material or ""))
    moved = [key_id for key_id, _ in rows]
    _data_keys().filter(pk__in=moved).update(store=key_store.DIRECTORY, material=None)
    return moved


def _to_database(rows: list[tuple[uuid.UUID, str | None]], missing: list[uuid.UUID]) -> list[uuid.UUID]:
    moved = []
    for key_id, _ in rows:
        material = key_store.read_key(key_id)
        if material is None:
            missing.append(key_id)
            continue
        _data_keys().filter(pk=key_id).update(store=key_store.DATABASE, material=base64.b64encode(material).decode())
        moved.append(key_id)
    for key_id in moved:
        transaction.on_commit(lambda key_id=key_id: key_store.shred_key_file(key_id))
    return moved
