"""Export customers as CSV or JSON Lines (import columns; PII masked unless --include-pii)."""

from __future__ import annotations

import io
import tempfile
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.errors import DomainError, PermissionDenied
from apps.customers.four_eyes import ExportAwaitsApproval
from apps.identity.models import User
from apps.imports.exporting import ExportFilters, export_customers


class Command(BaseCommand):
    help = (
        "Export the customers a user may see, in the import's columns. Personal data is masked unless "
        "--include-pii (needs customers.reveal_pii; audited either way)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--actor", required=True, help="Username of the person exporting (their visibility applies)."
        )
        destination = parser.add_mutually_exclusive_group()
        destination.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")
        destination.add_argument(
            "--to-storage",
            action="store_true",
            help="Write to the file storage (the S3 bucket when FINPULSE_STORAGE_BUCKET is set) under exports/; "
            "prints the stored name. For one-off containers, whose own disk is gone when they stop.",
        )
        parser.add_argument(
            "--format", choices=["csv", "jsonl"], default=None, help="Default: from --output, else csv."
        )
        parser.add_argument(
            "--include-pii", action="store_true", help="Clear national id, email, phone, birth date, address."
        )
        parser.add_argument("--reason", default="", help="Why personal data leaves (required with --include-pii).")
        parser.add_argument(
            "--approved-request",
            type=int,
            default=None,
            help="With --include-pii of more than FINPULSE_FOUR_EYES_EXPORT_THRESHOLD customers: the four-eyes "
            "request a second person approved (a first run without it proposes one and exits 3).",
        )
        parser.add_argument("--segment", default="")
        parser.add_argument("--branch", default="", help="Branch code.")
        parser.add_argument("--status", default="")
        parser.add_argument("--kyc-status", default="")
        parser.add_argument("--kind", default="")
        parser.add_argument("--manager", default="", help="Username of the primary relationship manager.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"No user with the username {options['actor']!r}.", returncode=2)
        output: Path | None = options["output"]
        file_format = options["format"] or ("jsonl" if output and output.suffix in (".jsonl", ".ndjson") else "csv")
        filters = ExportFilters(
            segment=options["segment"],
            branch_code=options["branch"],
            status=options["status"],
            kyc_status=options["kyc_status"],
            kind=options["kind"],
            manager_username=options["manager"],
        )
        if options["to_storage"]:
            self._export_to_storage(
                actor, filters, options["include_pii"], file_format, options["reason"], options["approved_request"]
            )
            return
        try:
            target = nullcontext(self.stdout._out) if output is None else output.open("w", encoding="utf-8", newline="")
            with target as handle:
                rows = export_customers(
                    actor=actor,
                    filters=filters,
                    include_pii=options["include_pii"],
                    reason=options["reason"],
                    file_format=file_format,
                    out=handle,
                    approved_request=options["approved_request"],
                )
        except ExportAwaitsApproval as error:
            if output is not None:
                output.unlink(missing_ok=True)
            raise CommandError(str(error), returncode=3) from None
        except PermissionDenied as error:
            if output is not None:
                output.unlink(missing_ok=True)
            raise CommandError(str(error), returncode=1) from None
        except DomainError as error:
            if output is not None:
                output.unlink(missing_ok=True)
            raise CommandError(str(error), returncode=2) from None
        if output is not None:
            self.stderr.write(f"Exported {rows:,} customers to {output}.")

    def _export_to_storage(
        self,
        actor: User,
        filters: ExportFilters,
        include_pii: bool,
        file_format: str,
        reason: str,
        approved_request: int | None,
    ) -> None:
        today = timezone.localdate()
        name = f"exports/{today:%Y}/{today:%m}/customers-{uuid.uuid4().hex}.{file_format}"
        with tempfile.TemporaryFile() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            try:
                rows = export_customers(
                    actor=actor,
                    filters=filters,
                    include_pii=include_pii,
                    reason=reason,
                    file_format=file_format,
                    out=text,
                    approved_request=approved_request,
                )
            except ExportAwaitsApproval as error:
                raise CommandError(str(error), returncode=3) from None
            except PermissionDenied as error:
                raise CommandError(str(error), returncode=1) from None
            except DomainError as error:
                raise CommandError(str(error), returncode=2) from None
            text.flush()
            raw.seek(0)
            stored = default_storage.save(name, File(raw, name=name))
            text.detach()
        self.stdout.write(stored)
        self.stderr.write(f"Exported {rows:,} customers to the file storage as {stored}.")
