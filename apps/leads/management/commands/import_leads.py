"""Import a batch file of leads (CSV or JSON Lines): every bad row is reported, then nothing is written.

Columns (CSV header or JSON keys): inquiry (required), full_name, email, phone, branch (code),
external_ref. A row whose external_ref was imported before is skipped, so a file can be run
again after a fix. Contact details are never printed; rows are named by their line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.imports.readers import FileProblem, detect_format, open_rows
from apps.leads.models import Lead
from apps.leads.services import LeadInput, submit_leads

COLUMNS = ("inquiry", "full_name", "email", "phone", "branch", "external_ref")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class Command(BaseCommand):
    help = "Import leads from a CSV or JSON Lines file; extraction is queued for each new lead."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: from the file name.")
        parser.add_argument("--delimiter", help="CSV delimiter (default: detected).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}", returncode=1)
        inputs: list[LeadInput] = []
        numbers: list[int] = []
        problems: list[str] = []
        try:
            rows = open_rows(path, file_format=detect_format(path, options["format"]), delimiter=options["delimiter"])
            try:
                for row in rows:
                    if row.problem:
                        problems.append(f"row {row.number}: {row.problem}")
                        continue
                    values = {key: _text(row.values.get(key)) for key in COLUMNS}
                    inputs.append(
                        LeadInput(
                            inquiry=values["inquiry"],
                            full_name=values["full_name"],
                            email=values["email"],
                            phone=values["phone"],
                            branch_code=values["branch"],
                            external_ref=values["external_ref"],
                        )
                    )
                    numbers.append(row.number)
            finally:
                rows.close()
        except FileProblem as error:
            raise CommandError(str(error), returncode=1) from error
        if not inputs and not problems:
            raise CommandError("The file has no rows.", returncode=1)
        result = submit_leads(actor=None, source=Lead.Source.IMPORT, rows=inputs) if not problems else None
        if result is not None:
            problems += [f"row {numbers[index - 1]}: {message}" for index, message in result.errors]
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} bad row(s): nothing was imported.", returncode=1)
        # No problems means the import ran.
        assert result is not None  # nosec B101
        self.stdout.write(
            f"Imported {len(result.created)} lead(s); {result.duplicates} already imported before were skipped."
        )
