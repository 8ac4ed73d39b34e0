"""Attachment files: decide what a file is from its bytes, and keep it outside the web root.

A name says nothing about content: `report.pdf` may be an HTML page with a script or a
Windows executable. The type is detected from the content (libmagic) and must agree with
the name's extension; office files (zip containers) must also have the OOXML structure of
their kind and carry no macros. Files are stored in the default storage (MEDIA_ROOT, or the
S3 bucket named by FINPULSE_STORAGE_BUCKET) with a random name, never under the uploaded one,
and are only ever read back by the permission-checked view, which streams them through.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

import magic
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from apps.core.errors import DomainError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", DOCX, XLSX}
TEXT_TYPES = {"text/plain", "text/csv", "application/csv"}

# extension -> (what libmagic may call it, the type we store and serve, a word for messages)
ALLOWED: dict[str, tuple[frozenset[str], str, str]] = {
    ".pdf": (frozenset({"application/pdf"}), "application/pdf", "a PDF document"),
    ".png": (frozenset({"image/png"}), "image/png", "a PNG image"),
    ".jpg": (frozenset({"image/jpeg"}), "image/jpeg", "a JPEG image"),
    ".jpeg": (frozenset({"image/jpeg"}), "image/jpeg", "a JPEG image"),
    ".txt": (frozenset({"text/plain"}), "text/plain", "a plain text file"),
    ".csv": (frozenset(TEXT_TYPES), "text/csv", "a CSV file"),
    ".docx": (frozenset(ZIP_TYPES), DOCX, "a Word document"),
    ".xlsx": (frozenset(ZIP_TYPES), XLSX, "an Excel workbook"),
}
OOXML_PART = {".docx": "word/document.xml", ".xlsx": "xl/workbook.xml"}
MAX_FILES = 5
_SNIFF_BYTES = 64 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str
    content_type: str
    size: int


def clean_name(name: str | None) -> str:
    """The uploaded name without folders or control characters (shown and offered on download)."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    if len(base) > 200:
        stem, ext = os.path.splitext(base)
        base = stem[: 200 - len(ext)] + ext
    return base or "attachment"


def _human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _ooxml_problem(upload: UploadedFile, extension: str) -> str | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "it is not a readable office document"
    if "[Content_Types].xml" not in names or OOXML_PART[extension] not in names:
        return "its content is a zip archive, not an office document"
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return "it contains macros"
    return None


def _text_problem(upload: UploadedFile) -> str | None:
    upload.seek(0)
    data = upload.read()
    if b"\x00" in data:
        return "it contains binary data"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "it is not readable text"
    return None


def check_upload(upload: UploadedFile, *, max_bytes: int) -> CheckedFile:
    """Refuse anything too big, empty, of a type we do not keep, or not what its name says."""
    name = clean_name(upload.name)
    size = upload.size or 0
    if size > max_bytes:
        raise DomainError(
            f"“{name}” is {_human_size(size)}; attachments can be at most {_human_size(max_bytes)}.",
            field="attachments",
        )
    if size == 0:
        raise DomainError(f"“{name}” is empty.", field="attachments")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED:
        kinds = ", ".join(sorted({ext.lstrip(".").upper() for ext in ALLOWED if ext != ".jpeg"}))
        raise DomainError(f"“{name}” is not a type we keep. Allowed: {kinds}.", field="attachments")
    detected_types, stored_type, word = ALLOWED[extension]
    upload.seek(0)
    detected = magic.from_buffer(upload.read(_SNIFF_BYTES), mime=True)
    problem = None
    if detected not in detected_types:
        problem = f"its content is {detected}"
    elif extension in OOXML_PART:
        problem = _ooxml_problem(upload, extension)
    elif detected in TEXT_TYPES:
        problem = _text_problem(upload)
    upload.seek(0)
    if problem:
        raise DomainError(f"“{name}” was refused: it is named as {word} but {problem}.", field="attachments")
    return CheckedFile(upload=upload, name=name, content_type=stored_type, size=size)


def check_uploads(uploads: Iterable[UploadedFile], *, max_bytes: int | None = None) -> list[CheckedFile]:
    uploads = list(uploads)
    if len(uploads) > MAX_FILES:
        raise DomainError(f"Attach at most {MAX_FILES} files to one interaction.", field="attachments")
    limit = max_bytes if max_bytes is not None else settings.FINPULSE_ATTACHMENT_MAX_BYTES
    return [check_upload(upload, max_bytes=limit) for upload in uploads]


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def store(checked: CheckedFile) -> tuple[str, str]:
    """Write a checked upload to the default storage; return (storage name, sha256 hex).

    The bytes are copied once into a private temporary file while they are hashed, so what is
    stored is exactly what was checked and hashed, whichever storage receives it.
    """
    today = timezone.localdate()
    name = f"attachments/{today:%Y}/{today:%m}/{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    written = 0
    with tempfile.TemporaryFile() as copy:
        checked.upload.seek(0)
        for chunk in checked.upload.chunks(_CHUNK):
            digest.update(chunk)
            written += len(chunk)
            copy.write(chunk)
        if written != checked.size:
            raise DomainError(
                f"“{checked.name}” changed while it was being stored; upload it again.", field="attachments"
            )
        copy.seek(0)
        stored = default_storage.save(name, File(copy, name=name))
    # A random name that already exists is a bug, never something to overwrite or rename.
    if stored != name:
        default_storage.delete(stored)
        raise RuntimeError("Attachment storage name collision.")
    return stored, digest.hexdigest()


def open_stored(storage_name: str) -> File:
    """Open a stored attachment for reading (FileNotFoundError when it is missing)."""
    if ".." in PurePath(storage_name).parts or storage_name.startswith("/"):
        raise ValueError("Attachment name leaves the storage.")
    return default_storage.open(storage_name, "rb")


def path_of(storage_path: str) -> Path:
    """The local path of a stored file (local storage only), refusing anything that leaves MEDIA_ROOT."""
    root = media_root().resolve()
    path = (root / storage_path).resolve()
    if root not in path.parents:
        raise ValueError("Attachment path leaves the media root.")
    return path


def remove(storage_paths: Iterable[str]) -> None:
    """Best-effort clean-up of files whose rows rolled back (an orphan costs storage, not data)."""
    for storage_path in storage_paths:
        try:
            default_storage.delete(storage_path)
        except (OSError, ValueError, BotoCoreError, ClientError):
            continue
