"""Re-encrypt every PII value under the newest key (see docs/security.md, "Key rotation").

Procedure: put the new key first in CRYPTOGRAPHY_KEY and the old one in CRYPTOGRAPHY_OLD_KEYS
on every process, run this command until it exits 0, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.encryption import keyring
from apps.core.rotation import DEFAULT_BATCH_SIZE, BatchResult, models_with_encrypted_fields, rotate_model


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Re-encrypt PII still under an old key with the newest key, in resumable batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument("--model", help="Only this model (app_label.Model), e.g. customers.Customer.")
        parser.add_argument(
            "--limit", type=_positive, help="Re-encrypt at most this many rows per model, then stop (rerun resumes)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args: Any, batch_size: int, model: str | None, limit: int | None, dry_run: bool, **options: Any):
        try:
            models = models_with_encrypted_fields(model)
        except LookupError as error:
            raise CommandError(str(error), returncode=1) from error
        verbose = options["verbosity"] >= 1
        verb = "would re-encrypt" if dry_run else "re-encrypted"

        def progress(batch: BatchResult) -> None:
            if verbose:
                self.stdout.write(
                    f"{batch.model} pk {batch.first_pk}..{batch.last_pk}: {batch.scanned} rows, {batch.rotated} {verb}"
                )

        self.stdout.write(f"Newest key id {keyring().current.key_id.hex()}; batch size {batch_size}.")
        unreadable = []
        unfinished = []
        total = 0
        for model_class in models:
            result = rotate_model(model_class, batch_size=batch_size, limit=limit, dry_run=dry_run, progress=progress)
            total += result.rotated
            unreadable.extend(result.unreadable)
            if result.stopped_early:
                unfinished.append(result.model)
            self.stdout.write(
                f"{result.model} ({', '.join(result.fields)}): {result.scanned} rows scanned, {result.rotated} {verb}."
            )

        for value in unreadable:
            self.stderr.write(f"Cannot decrypt {value.model} #{value.pk} {value.field}: {value.reason}")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} value(s) could not be decrypted with any configured key; "
                "configure the key that wrote them and run again.",
                returncode=1,
            )
        if dry_run:
            self.stdout.write(f"Dry run: {total} row(s) would be re-encrypted; nothing was written.")
            return
        if unfinished:
            raise CommandError(
                f"Stopped at --limit: {', '.join(unfinished)} still ha(s) rows under an old key; run again to resume.",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total} row(s) re-encrypted; every value is under the newest key.")
        )
