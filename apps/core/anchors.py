"""Where block seals are kept outside the database: S3 with Object Lock, or a write-once folder.

An anchor is a small JSON document per block (index, seal, Merkle root, previous seal, count,
cursor range). Production writes it to FINPULSE_AUDIT_ANCHOR_BUCKET, an S3 bucket with Object
Lock in compliance mode: no one, the root account included, can delete or shorten the retention
of a written version. A second PUT to the same key would only add a newer version; the verifier
reads every version and reports an anchor with more than one. Without a bucket (the embedded
default) anchors go to FINPULSE_AUDIT_ANCHOR_DIR, created exclusively (`x` mode) and made
read-only; that guards against mistakes, not against the machine's administrator (docs/compliance.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

ANCHOR_NAME = "block-{index:012d}.json"


class AnchorConflict(Exception):
    """An anchor for this block exists already with other content."""


@dataclass(frozen=True)
class StoredAnchor:
    index: int
    content: dict[str, Any]  # the first version written
    versions: int  # more than one: someone wrote the key again


class AnchorStore(Protocol):
    location: str

    def put(self, index: int, content: Mapping[str, Any]) -> None: ...

    def get(self, index: int) -> StoredAnchor | None: ...

    def all(self) -> dict[int, StoredAnchor]: ...


def _encode(content: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(content), sort_keys=True, separators=(",", ":")).encode()


def _index_of(name: str) -> int | None:
    stem = name.rsplit("/", 1)[-1]
    if not (stem.startswith("block-") and stem.endswith(".json")):
        return None
    digits = stem[len("block-") : -len(".json")]
    return int(digits) if digits.isdigit() else None


class FolderAnchorStore:
    """One read-only file per block under a folder (the embedded default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.location = str(self.folder)

    def put(self, index: int, content: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / ANCHOR_NAME.format(index=index)
        data = _encode(content)
        try:
            with path.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except FileExistsError:
            if path.read_bytes() != data:
                raise AnchorConflict(f"Anchor of block {index} exists with other content ({path}).") from None
            return
        path.chmod(0o444)

    def _read(self, path: Path, index: int) -> StoredAnchor:
        return StoredAnchor(index=index, content=json.loads(path.read_bytes()), versions=1)

    def get(self, index: int) -> StoredAnchor | None:
        path = self.folder / ANCHOR_NAME.format(index=index)
        return self._read(path, index) if path.exists() else None

    def all(self) -> dict[int, StoredAnchor]:
        if not self.folder.is_dir():
            return {}
        found = {}
        for path in self.folder.iterdir():
            index = _index_of(path.name)
            if index is not None:
                found[index] = self._read(path, index)
        return found


class S3AnchorStore:
    """One object per block in a bucket with Object Lock (compliance mode, retention from settings)."""

    def __init__(self, *, bucket: str, prefix: str, endpoint_url: str, region: str, retention_days: int) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.retention_days = retention_days
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)
        self.location = f"s3://{bucket}/{prefix}"

    def _key(self, index: int) -> str:
        return self.prefix + ANCHOR_NAME.format(index=index)

    def put(self, index: int, content: Mapping[str, Any]) -> None:
        existing = self.get(index)
        data = _encode(content)
        if existing is not None:
            if _encode(existing.content) != data:
                raise AnchorConflict(f"Anchor of block {index} exists with other content ({self._key(index)}).")
            return
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(index),
            Body=data,
            ContentType="application/json",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=timezone.now() + dt.timedelta(days=self.retention_days),
            ChecksumAlgorithm="SHA256",
        )

    def _versions(self, prefix: str) -> dict[str, list[dict[str, Any]]]:
        by_key: dict[str, list[dict[str, Any]]] = {}
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                by_key.setdefault(version["Key"], []).append(version)
        return by_key

    def _stored(self, key: str, versions: list[dict[str, Any]]) -> StoredAnchor | None:
        index = _index_of(key)
        if index is None or not versions:
            return None
        first = min(versions, key=lambda v: v["LastModified"])
        body = self.client.get_object(Bucket=self.bucket, Key=key, VersionId=first["VersionId"])["Body"].read()
        return StoredAnchor(index=index, content=json.loads(body), versions=len(versions))

    def get(self, index: int) -> StoredAnchor | None:
        key = self._key(index)
        return self._stored(key, self._versions(key).get(key, []))

    def all(self) -> dict[int, StoredAnchor]:
        found = {}
        for key, versions in self._versions(self.prefix).items():
            stored = self._stored(key, versions)
            if stored is not None:
                found[stored.index] = stored
        return found


def anchor_store() -> AnchorStore:
    """The configured store: the bucket when FINPULSE_AUDIT_ANCHOR_BUCKET is set, else the folder."""
    if settings.FINPULSE_AUDIT_ANCHOR_BUCKET:
        return S3AnchorStore(
            bucket=settings.FINPULSE_AUDIT_ANCHOR_BUCKET,
            prefix=settings.FINPULSE_AUDIT_ANCHOR_PREFIX,
            endpoint_url=settings.FINPULSE_AUDIT_ANCHOR_ENDPOINT_URL,
            region=settings.AWS_DEFAULT_REGION,
            retention_days=settings.FINPULSE_AUDIT_ANCHOR_RETENTION_DAYS,
        )
    return FolderAnchorStore(Path(settings.FINPULSE_AUDIT_ANCHOR_DIR))
