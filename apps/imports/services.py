"""Writes to the imports' own bookkeeping: starting, resuming and finishing a run.

The rows themselves are written by apps.imports.writers (one transaction per batch); a run
ends with exactly one "import.completed" audit event carrying the file's checksum, the
counts and who ran it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.audit import record_audit_event
from apps.imports.models import ImportRun
from apps.imports.readers import FileFacts

if TYPE_CHECKING:
    from apps.identity.models import User

UNFINISHED = (ImportRun.Status.RUNNING, ImportRun.Status.INTERRUPTED)


def unfinished_run(*, entity: str, sha256: str) -> ImportRun | None:
    """The latest run of this very file (same checksum) that did not finish: the one to resume."""
    return (
        ImportRun.objects.filter(entity=entity, sha256=sha256, dry_run=False, status__in=UNFINISHED)
        .order_by("-started_at", "-id")
        .first()
    )


@transaction.atomic
def start_import_run(
    *, actor: User | None, entity: str, facts: FileFacts, dry_run: bool, options: dict[str, Any]
) -> ImportRun:
    return ImportRun.objects.create(
        entity=entity,
        file_name=facts.path.name[:255],
        sha256=facts.sha256,
        file_size=facts.size,
        dry_run=dry_run,
        actor=actor,
        actor_label=actor.get_username() if actor is not None else "system",
        options=options,
        started_at=timezone.now(),
    )


@transaction.atomic
def resume_import_run(*, run: ImportRun, actor: User | None) -> ImportRun:
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    run.status = ImportRun.Status.RUNNING
    run.resumed += 1
    run.message = ""
    if actor is not None and run.actor_id is None:
        run.actor = actor
        run.actor_label = actor.get_username()
    run.save(update_fields=["status", "resumed", "message", "actor", "actor_label"])
    return run


@transaction.atomic
def supersede_import_runs(*, entity: str, sha256: str, reason: str) -> int:
    """--restart: unfinished runs of this file are closed instead of resumed."""
    return ImportRun.objects.filter(entity=entity, sha256=sha256, dry_run=False, status__in=UNFINISHED).update(
        status=ImportRun.Status.FAILED, message=reason, finished_at=timezone.now()
    )


@transaction.atomic
def stop_import_run(*, run: ImportRun, status: str, message: str, error_report: str = "") -> ImportRun:
    """An interrupted (Ctrl-C) or failed run: what was committed stays; a re-run resumes."""
    ImportRun.objects.filter(pk=run.pk).update(
        status=status, message=message[:2000], error_report=error_report, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


@transaction.atomic
def complete_import_run(*, run: ImportRun, actor: User | None, error_report: str, delimiter: str) -> ImportRun:
    """Close the run and record its one audit event (nothing is recorded for a dry run)."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    run.status = ImportRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.error_report = error_report
    run.save(update_fields=["status", "finished_at", "error_report"])
    if not run.dry_run:
        record_audit_event(
            actor=actor,
            action="import.completed",
            target=run,
            metadata={
                "entity": run.entity,
                "file_name": run.file_name,
                "sha256": run.sha256,
                "file_size": run.file_size,
                "counts": run.counts,
                "resumed": run.resumed,
                "delimiter": delimiter,
                "error_report": error_report,
                "started_by": run.actor_label,
            },
        )
    return run
