"""Move customers' data keys between the `database` and `directory` stores (docs/security.md,
"Moving data keys between stores"). Set FINPULSE_DATA_KEY_STORE to the target store on every
process first, so new keys stop arriving in the old one; then run this until it exits 0."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core import key_store
from apps.core.batch_command import positive
from apps.core.key_moves import DEFAULT_BATCH_SIZE, MovedBatch, move_data_keys


class Command(BaseCommand):
    help = "Move live data keys into the configured data-key store, in resumable, audited batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, choices=key_store.STORES, help="The store to move keys into.")
        parser.add_argument("--batch-size", type=positive, default=DEFAULT_BATCH_SIZE, help="Keys per transaction.")
        parser.add_argument("--limit", type=positive, help="Move at most this many keys, then stop (rerun resumes).")
        parser.add_argument("--dry-run", action="store_true", help="Count the keys to move; write nothing.")

    def handle(self, *args: Any, to: str, batch_size: int, limit: int | None, dry_run: bool, **options: Any) -> None:
        configured = key_store.current_store()
        if configured != to:
            raise CommandError(
                f"FINPULSE_DATA_KEY_STORE is {configured!r}: set it to {to!r} on every process first, "
                "so that new keys are created in the store you are moving to.",
                returncode=1,
            )
        if to == key_store.DIRECTORY:
            self.stdout.write(f"Key folder {key_store.directory()}; batch size {batch_size}.")
        else:
            self.stdout.write(f"Into core_datakey; batch size {batch_size}.")

        def progress(batch: MovedBatch) -> None:
            if options["verbosity"] >= 1:
                self.stdout.write(f"keys {batch.first}..{batch.last}: {batch.moved} moved to {to}")

        result = move_data_keys(to, batch_size=batch_size, limit=limit, dry_run=dry_run, progress=progress)
        if dry_run:
            self.stdout.write(f"Dry run: {result.remaining} key(s) would be moved to {to}; nothing was written.")
            return
        for key_id in result.missing:
            self.stderr.write(f"Key {key_id}: its file is missing or no configured master key opens it; left as it is.")
        if result.missing:
            raise CommandError(
                f"{len(result.missing)} key(s) could not be read from {key_store.directory()}; "
                f"{result.moved} moved. Restore the files (or the master key) and run again.",
                returncode=1,
            )
        if result.remaining:
            raise CommandError(
                f"Stopped at --limit: {result.moved} moved, {result.remaining} key(s) still in the {result.source} "
                "store; run again to resume.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"Done: {result.moved} key(s) moved; every live key is in the {to} store.")
        )
