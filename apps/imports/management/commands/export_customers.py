"""Export customers as CSV or JSON Lines (import columns; PII masked unless --include-pii)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError, PermissionDenied
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
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")
        parser.add_argument(
            "--format", choices=["csv", "jsonl"], default=None, help="Default: from --output, else csv."
        )
        parser.add_argument(
            "--include-pii", action="store_true", help="Clear national id, email, phone, birth date, address."
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
        try:
            if output is None:
                rows = export_customers(
                    actor=actor,
                    filters=filters,
                    include_pii=options["include_pii"],
                    file_format=file_format,
                    out=self.stdout._out,
                )
            else:
                with output.open("w", encoding="utf-8", newline="") as handle:
                    rows = export_customers(
                        actor=actor,
                        filters=filters,
                        include_pii=options["include_pii"],
                        file_format=file_format,
                        out=handle,
                    )
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
