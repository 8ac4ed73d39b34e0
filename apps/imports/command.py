"""The shared shape of the import commands: options in, summary and exit code out.

Exit codes: 0 every row imported (or --allow-partial), 1 some row failed or the file is
being imported by another process, 2 bad usage or an unusable file (nothing written),
130 interrupted (what was committed stays; the same command resumes).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.imports.pipeline import (
    DEFAULT_BATCH_SIZE,
    ImportBusy,
    Importer,
    ImportInterrupted,
    ImportOptions,
    ImportOutcome,
    UsageProblem,
)

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class ImportCommand(BaseCommand):
    entity = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="CSV (UTF-8, with or without BOM) or JSON Lines file.")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="Default: from the extension (.jsonl, .ndjson).")
        parser.add_argument(
            "--delimiter", help="CSV delimiter (one character, or tab/comma/semicolon/pipe). Default: detected."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument("--dry-run", action="store_true", help="Validate everything, write nothing.")
        parser.add_argument("--allow-partial", action="store_true", help="Exit 0 even when some rows failed.")
        parser.add_argument("--actor", help="Username of the administrator running the import (default: system).")
        parser.add_argument("--error-report", type=Path, help="Where to write bad rows (default: <name>.errors.csv).")
        parser.add_argument("--restart", action="store_true", help="Start over instead of resuming an unfinished run.")
        parser.add_argument(
            "--progress-interval",
            type=float,
            default=10.0,
            help="Seconds between progress lines when not on a terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        delimiter = options["delimiter"]
        if delimiter is not None:
            delimiter = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
        import_options = ImportOptions(
            entity=self.entity,
            path=options["path"],
            file_format=options["format"],
            delimiter=delimiter,
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
            actor_username=options["actor"],
            error_report=options["error_report"],
            restart=options["restart"],
            progress_interval=options["progress_interval"],
        )
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGTERM)
        if in_main_thread:  # signals can only be handled there
            signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM stops as cleanly as Ctrl-C
        try:
            outcome = Importer(import_options, stream=self.stderr._out).run()
        except UsageProblem as error:
            raise CommandError(str(error), returncode=2) from None
        except ImportBusy as error:
            raise CommandError(str(error), returncode=1) from None
        except ImportInterrupted as error:
            raise CommandError(str(error), returncode=130) from None
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)
        self._summarise(outcome)
        if outcome.failed and not options["allow_partial"]:
            raise CommandError(
                f"{outcome.failed:,} row(s) failed; see {outcome.error_report} (--allow-partial accepts this).",
                returncode=1,
            )

    def _summarise(self, outcome: ImportOutcome) -> None:
        counts = outcome.counts
        for note in outcome.notes:
            self.stdout.write(note)
        prefix = "Dry run (nothing written): " if outcome.dry_run else f"Import run #{outcome.run.pk}: "
        duplicates = f" ({counts['duplicates']:,} probable duplicates)" if counts["duplicates"] else ""
        self.stdout.write(
            f"{prefix}{outcome.run.file_name}: {counts['rows']:,} rows - created {counts['created']:,}, "
            f"updated {counts['updated']:,}, unchanged {counts['unchanged']:,}, "
            f"failed {counts['failed']:,}{duplicates}."
        )
        if counts["rows"] and counts["unchanged"] == counts["rows"]:
            self.stdout.write("Nothing changed: every row matches what is stored.")
        if counts["failed"]:
            self.stdout.write(f"Error report: {outcome.error_report}")
        else:
            self.stdout.write(self.style.SUCCESS("No row failed."))
