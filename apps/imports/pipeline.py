"""Run one import: read the file as a stream, validate each row, write in batches, report.

    facts    checksum + UTF-8 check (one streaming pass), then the resumable run, if any
    rows     reader -> schema.parse -> batch (flushed at --batch-size, or early when an
             external id comes back, so a later row updates an earlier one as in a re-run)
    write    writers.write_batch: one transaction per batch, counters and resume point in it
    end      error report from the stored errors, "import.completed" audit event

A dry run does the same inside one transaction that is rolled back at the end, so it
classifies rows exactly as the real run would (duplicates inside the file included), takes
no lock on the audit chain and leaves nothing behind but the error report.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.db import DatabaseError, DataError, IntegrityError, connection, reset_queries, transaction
from django.db.models import Model

from apps.core.errors import DomainError
from apps.identity.models import User
from apps.imports.models import ImportRun
from apps.imports.readers import CsvRows, FileFacts, FileProblem, JsonLinesRows, detect_format, inspect_file, open_rows
from apps.imports.reporting import Progress, default_report_path, write_error_report
from apps.imports.schemas import SCHEMAS, FieldProblem, ParsedRow
from apps.imports.services import (
    complete_import_run,
    resume_import_run,
    start_import_run,
    stop_import_run,
    supersede_import_runs,
    unfinished_run,
)
from apps.imports.writers import GROWN_MODELS, BatchResult, ImportContext, write_batch

DEFAULT_BATCH_SIZE = 1000
Reader = CsvRows | JsonLinesRows
Defaults = dict[str, str] | None  # values for columns a file may leave out (interactions' author)


class UsageProblem(Exception):
    """Bad usage or an unusable file: nothing was written (exit code 2)."""


class ImportBusy(Exception):
    """Another process is importing this very file right now."""


class ImportInterrupted(Exception):
    """Ctrl-C or SIGTERM: committed batches stay, a re-run resumes."""

    def __init__(self, run: ImportRun | None, message: str) -> None:
        super().__init__(message)
        self.run = run


@dataclass
class ImportOptions:
    entity: str
    path: Path
    file_format: str | None = None
    delimiter: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    dry_run: bool = False
    actor_username: str | None = None
    error_report: Path | None = None
    restart: bool = False
    progress_interval: float = 10.0


@dataclass
class ImportOutcome:
    run: ImportRun
    counts: dict[str, int]
    error_report: Path
    delimiter: str
    resumed_after: int = 0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.counts["failed"]


def resolve_actor(username: str | None) -> User | None:
    """Imports run as the system, or as a named active administrator (who is then audited)."""
    if not username:
        return None
    actor = User.objects.filter(username=username).first()
    if actor is None:
        raise UsageProblem(f"No user with the username {username!r} (--actor).")
    if not actor.is_active or not actor.is_administrator:
        raise UsageProblem(f"{username!r} is not an active administrator; imports run as one (or as the system).")
    return actor


def _lock_key(entity: str, sha256: str) -> int:
    digest = hashlib.sha256(f"finpulse-import:{entity}:{sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(key: int) -> bool:
    # Session-level: held for the whole run, released by PostgreSQL if the process dies.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


def _unlock(key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _refusal(error: Exception) -> str:
    cause = getattr(error, "__cause__", None)
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    if isinstance(error, DomainError):
        return str(error)
    return f"The database refused the row ({constraint or type(error).__name__})."


class PlannerStatistics:
    """Keep PostgreSQL's planner statistics current while an import grows its tables.

    A bulk load outruns autovacuum, or runs where it is switched off: with statistics taken
    when a table was small, the per-batch lookups (external ids, blind indexes) are planned
    as sequential scans and every batch is slower than the one before. As the PostgreSQL
    manual advises for bulk loads, the grown tables are ANALYZEd, here whenever they doubled
    since the planner last looked: about ten times while a million rows go in empty tables,
    at about half a second each, and never for a small file in a large table.
    """

    def __init__(self, tables: Iterable[type[Model]], *, min_rows: int = DEFAULT_BATCH_SIZE) -> None:
        self.tables = [model._meta.db_table for model in tables]
        self.min_rows = min_rows
        self.added = 0
        self.known = self._known_rows()

    def _known_rows(self) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [self.tables[0]])
            return float(cursor.fetchone()[0])

    def grew(self, rows: int) -> None:
        self.added += rows
        if self.added < max(self.min_rows, self.known):
            return
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        self.added = 0
        self.known = self._known_rows()


def commit_batch(context: ImportContext, rows: list[ParsedRow]) -> BatchResult:
    """Write a batch; if the database refuses it as a whole, find the culprits row by row."""
    try:
        return write_batch(context=context, rows=rows)
    except (IntegrityError, DataError, DomainError) as error:
        for row in rows:
            row.reset()
        if len(rows) == 1:
            rows[0].fail("", _refusal(error))
            return write_batch(context=context, rows=rows, failed_only=True)
    total = BatchResult()
    for row in rows:
        total.add(commit_batch(context, [row]))
    return total


class Importer:
    def __init__(
        self, options: ImportOptions, *, stream: TextIO | None = None, interactive: bool | None = None
    ) -> None:
        self.options = options
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        if options.entity not in SCHEMAS:
            raise UsageProblem(f"Unknown import: {options.entity}.")
        if options.batch_size < 1:
            raise UsageProblem("--batch-size must be at least 1.")
        self.schema = SCHEMAS[options.entity]()

    def run(self) -> ImportOutcome:
        options = self.options
        actor = resolve_actor(options.actor_username)
        try:
            facts = inspect_file(options.path)
            file_format = detect_format(options.path, options.file_format)
            reader = open_rows(options.path, file_format=file_format, delimiter=options.delimiter)
        except FileProblem as error:
            raise UsageProblem(str(error)) from None
        defaults = {"author_username": actor.get_username()} if actor and options.entity == "interactions" else None
        try:
            if file_format == "csv":
                problems = self.schema.check_header(reader.header, optional=defaults or ())
                if problems:
                    raise UsageProblem(" ".join(problems))
            report_path = options.error_report or default_report_path(options.path)
            if options.dry_run:
                return self._dry_run(facts, reader, actor, defaults, report_path)
            return self._real_run(facts, reader, actor, defaults, report_path)
        finally:
            reader.close()

    def _options_record(self, delimiter: str) -> dict[str, Any]:
        return {
            "batch_size": self.options.batch_size,
            "delimiter": delimiter,
            "format": detect_format(self.options.path, self.options.file_format),
        }

    def _dry_run(
        self, facts: FileFacts, reader: Reader, actor: User | None, defaults: Defaults, report_path: Path
    ) -> ImportOutcome:
        with transaction.atomic():
            run = start_import_run(
                actor=actor,
                entity=self.options.entity,
                facts=facts,
                dry_run=True,
                options=self._options_record(reader.delimiter),
            )
            context = ImportContext(run=run, schema=self.schema, actor=actor, dry_run=True)
            try:
                self._process(context, reader, facts, defaults, resume_after=0)
            except KeyboardInterrupt:
                raise ImportInterrupted(None, "Dry run interrupted; nothing was written.") from None
            write_error_report(run=run, path=report_path)
            run.refresh_from_db()
            outcome = ImportOutcome(
                run=run, counts=run.counts, error_report=report_path, delimiter=reader.delimiter, dry_run=True
            )
            transaction.set_rollback(True)
        return outcome

    def _real_run(
        self, facts: FileFacts, reader: Reader, actor: User | None, defaults: Defaults, report_path: Path
    ) -> ImportOutcome:
        entity = self.options.entity
        key = _lock_key(entity, facts.sha256)
        if not _try_lock(key):
            raise ImportBusy(f"Another import of this file ({facts.path.name}) is running; try again when it ends.")
        try:
            notes = []
            previous = None
            if self.options.restart:
                superseded = supersede_import_runs(
                    entity=entity, sha256=facts.sha256, reason="Superseded by a --restart run."
                )
                if superseded:
                    notes.append(f"Started over (--restart); {superseded} unfinished run(s) closed.")
            else:
                previous = unfinished_run(entity=entity, sha256=facts.sha256)
            if previous is not None:
                run = resume_import_run(run=previous, actor=actor)
                resume_after = run.last_committed_row
                notes.append(
                    f"Resumed run #{run.pk} of this file after row {resume_after} "
                    f"({run.rows:,} rows were already committed)."
                )
            else:
                run = start_import_run(
                    actor=actor,
                    entity=entity,
                    facts=facts,
                    dry_run=False,
                    options=self._options_record(reader.delimiter),
                )
                resume_after = 0
            context = ImportContext(run=run, schema=self.schema, actor=actor)
            try:
                self._process(context, reader, facts, defaults, resume_after=resume_after)
            except KeyboardInterrupt:
                write_error_report(run=run, path=report_path)
                run = stop_import_run(
                    run=run,
                    status=ImportRun.Status.INTERRUPTED,
                    message="Interrupted; re-run the same command to resume.",
                    error_report=str(report_path),
                )
                raise ImportInterrupted(
                    run,
                    f"Interrupted after row {run.last_committed_row} ({run.rows:,} rows committed). "
                    "Run the same command again to resume.",
                ) from None
            except Exception as error:
                # Record why, if the database still answers; the original error is what matters.
                with suppress(DatabaseError):
                    stop_import_run(run=run, status=ImportRun.Status.FAILED, message=f"{type(error).__name__}: {error}")
                raise
            write_error_report(run=run, path=report_path)
            run = complete_import_run(run=run, actor=actor, error_report=str(report_path), delimiter=reader.delimiter)
            return ImportOutcome(
                run=run,
                counts=run.counts,
                error_report=report_path,
                delimiter=reader.delimiter,
                resumed_after=resume_after,
                notes=notes,
            )
        finally:
            # A lost connection has released the lock already.
            with suppress(DatabaseError):
                _unlock(key)

    def _process(
        self, context: ImportContext, reader: Reader, facts: FileFacts, defaults: Defaults, *, resume_after: int
    ) -> None:
        schema, batch_size = self.schema, self.options.batch_size
        run = context.run
        totals = {name: getattr(run, name) for name in ("created", "updated", "unchanged", "failed")}
        data_lines = max(facts.lines - 1, 0) if reader.delimiter else facts.lines
        progress = Progress(
            label=f"{self.options.entity} {facts.path.name}",
            total=data_lines or None,
            initial=0,
            stream=self.stream,
            interactive=self.interactive,
            interval=self.options.progress_interval,
        )
        batch: list[ParsedRow] = []
        keys: set[Any] = set()
        # A dry run is rolled back: its rows never reach the statistics.
        statistics = None if context.dry_run else PlannerStatistics(GROWN_MODELS[self.options.entity])

        def flush() -> None:
            if not batch:
                return
            result = commit_batch(context, batch)
            # Under DEBUG Django keeps every statement's SQL (a batch insert is megabytes of
            # ciphertext): drop it, so memory stays flat whatever the file size.
            reset_queries()
            for name in totals:
                totals[name] += getattr(result, name)
            progress.advance(len(batch), counts=totals)
            if statistics is not None:
                statistics.grew(result.created)
            batch.clear()
            keys.clear()

        try:
            skipped = 0
            for source in reader:
                if source.number <= resume_after:
                    skipped += 1
                    continue
                if skipped:
                    progress.advance(skipped, counts=totals)
                    skipped = 0
                if source.problem:
                    row = ParsedRow(source.number, source.values, {}, [FieldProblem("", source.problem)], checked=1)
                else:
                    row = schema.parse(source.number, source.values, defaults=defaults)
                key = row.data.get(schema.key)
                if key is not None and key in keys:
                    flush()
                batch.append(row)
                if key is not None:
                    keys.add(key)
                if len(batch) >= batch_size:
                    flush()
            flush()
        finally:
            progress.close()
