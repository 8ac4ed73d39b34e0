"""Where customers' data keys live: in the database (default) or in a directory of their own.

`FINPULSE_DATA_KEY_STORE`:

- `database` (default): the wrapped key is `DataKey.material`, in the application database.
  Destroying it clears the column, but every earlier copy of the database (a replica's WAL, a
  full `pg_dump`, a snapshot) still holds the wrapped key, unreadable only while the master key
  is unknown to whoever holds the copy. Backups must therefore leave `core_datakey` out and keep
  it on a short retention (docs/compliance.md, "Backups").
- `directory`: one file per key under `FINPULSE_DATA_KEY_DIR`, meant to be a separate volume
  that no database backup includes (and that is itself neither snapshotted nor versioned, or
  only within the erasure deadline). The `DataKey` row keeps the key's id, creation and
  destruction dates only. Destroying a key deletes its file once the erasure commits: a dump of
  the application database taken at any time never contained the key, so after the erasure no
  copy of it can be read, whatever else the copy holds.

The file holds the key wrapped by the master key ring (apps.core.encryption), like the column.
A file written for a transaction that then rolls back stays behind unused (its key encrypts
nothing); `manage.py` tools may sweep it later.

Master key rotation re-wraps the files too (`rewrap_key`, called by `rotate_encryption_key`
through apps.core.rotation): the new wrapping is written to a temporary file, synced, and renamed
over the old one, so a crash leaves either the old or the new wrapping, never half of one.
`manage.py move_data_keys` moves keys between the two stores (apps.core.key_moves).
"""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from apps.core.encryption import UndecryptableValue, keyring

DATABASE = "database"
DIRECTORY = "directory"
STORES = (DATABASE, DIRECTORY)


def current_store() -> str:
    store = settings.FINPULSE_DATA_KEY_STORE
    if store not in STORES:
        raise ImproperlyConfigured(f"FINPULSE_DATA_KEY_STORE must be one of {', '.join(STORES)}, not {store!r}.")
    return str(store)


def directory() -> Path:
    return Path(settings.FINPULSE_DATA_KEY_DIR)


def _path(key_id: uuid.UUID) -> Path:
    return directory() / f"{key_id}.key"


def write_keys(keys: dict[uuid.UUID, bytes]) -> None:
    """Write each key's wrapped material to its own file (created exclusively, owner-only)."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ring = keyring()
    for key_id, material in keys.items():
        descriptor = os.open(_path(key_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64encode(ring.encrypt(material)))
            handle.flush()
            os.fsync(handle.fileno())


def _write_file(path: Path, content: bytes, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_wrapped(key_id: uuid.UUID) -> bytes | None:
    """The key file's content as stored (wrapped by the master key ring); None when absent."""
    try:
        return base64.b64decode(_path(key_id).read_bytes())
    except (FileNotFoundError, ValueError):
        return None


def replace_key(key_id: uuid.UUID, material: bytes) -> None:
    """Write the key's file wrapped by the newest master key, replacing any file already there.

    Temporary file, fsync, rename, fsync of the folder: the file is at every moment either the
    old wrapping or the new one (a crash mid-way cannot lose the customer's data)."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = folder / f"{key_id}.key.tmp"
    _write_file(temporary, base64.b64encode(keyring().encrypt(material)), exclusive=False)
    os.replace(temporary, _path(key_id))
    _sync_directory(folder)


def read_key(key_id: uuid.UUID) -> bytes | None:
    """The key's material, or None when its file is gone (destroyed) or unreadable."""
    try:
        wrapped = base64.b64decode(_path(key_id).read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    try:
        return keyring().decrypt(wrapped)
    except UndecryptableValue:
        return None


def _shred(key_id: uuid.UUID) -> None:
    path = _path(key_id)
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(os.urandom(size))  # on a plain volume, the old bytes do not linger
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
    except FileNotFoundError:
        return


def shred_key_file(key_id: uuid.UUID) -> None:
    """Overwrite and delete the key's file now (a key moved back into the database)."""
    _shred(key_id)


def destroy_key_file(key_id: uuid.UUID) -> None:
    """Delete the key's file when the surrounding transaction commits (at once outside one), so
    an erasure that rolls back never leaves its customer unreadable."""
    transaction.on_commit(lambda: _shred(key_id))
