"""Re-encrypt every PII value under the newest key (see docs/security.md, "Key rotation").

Procedure: put the new key first in CRYPTOGRAPHY_KEY and the old one in CRYPTOGRAPHY_OLD_KEYS
on every process, run this command until it exits 0, then drop the old key.

Customers' data keys are re-wrapped wherever they live: the `core_datakey` rows (the
`core.DataKey` model) and, with the `directory` store, their files (apps.core.rotation
`rotate_key_files`), whenever `core.DataKey` is among the models of the run.
"""

from __future__ import annotations

from django.db import models

from apps.core.batch_command import BatchCommand, BatchRun
from apps.core.encryption import keyring
from apps.core.models import DataKey
from apps.core.rotation import (
    DEFAULT_BATCH_SIZE,
    BatchResult,
    ModelRotation,
    UnreadableValue,
    models_with_encrypted_fields,
    rotate_key_files,
    rotate_model,
)


class Command(BatchCommand):
    help = "Re-encrypt PII still under an old key with the newest key, in resumable batches."
    default_batch_size = DEFAULT_BATCH_SIZE
    model_help = "Only this model (app_label.Model), e.g. customers.Customer."
    limit_help = "Re-encrypt at most this many rows per model, then stop (rerun resumes)."
    verbs = ("would re-encrypt", "re-encrypted")
    find_models = staticmethod(models_with_encrypted_fields)

    def header(self) -> str:
        return f"Newest key id {keyring().current.key_id.hex()}"

    def run(self, model_classes: list[type[models.Model]], how: BatchRun) -> None:
        verb = self.verb

        def progress(batch: BatchResult) -> None:
            self.progress(
                f"{batch.model} pk {batch.first_pk}..{batch.last_pk}: {batch.scanned} rows, {batch.rotated} {verb}"
            )

        unreadable: list[UnreadableValue] = []
        unfinished: list[str] = []
        total = 0
        for model_class in model_classes:
            results = [
                rotate_model(
                    model_class, batch_size=how.batch_size, limit=how.limit, dry_run=how.dry_run, progress=progress
                )
            ]
            if model_class is DataKey:  # the keys of the directory store are files, not rows
                results.append(
                    rotate_key_files(batch_size=how.batch_size, limit=how.limit, dry_run=how.dry_run, progress=progress)
                )
            for result in results:
                total += self.report(result, unreadable, unfinished)

        for value in unreadable:
            self.stderr.write(f"Cannot decrypt {value.model} #{value.pk} {value.field}: {value.reason}")
        if unreadable:
            self.stop(
                f"{len(unreadable)} value(s) could not be decrypted with any configured key; "
                "configure the key that wrote them and run again."
            )
        if how.dry_run:
            self.stdout.write(f"Dry run: {total} row(s) would be re-encrypted; nothing was written.")
            return
        if unfinished:
            self.stop(
                f"Stopped at --limit: {', '.join(unfinished)} still ha(s) rows under an old key; run again to resume."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total} row(s) re-encrypted; every value is under the newest key.")
        )

    def report(self, result: ModelRotation, unreadable: list[UnreadableValue], unfinished: list[str]) -> int:
        """Print one model's totals, collect what is unreadable or unfinished; the rows rotated."""
        unreadable.extend(result.unreadable)
        if result.stopped_early:
            unfinished.append(result.model)
        self.stdout.write(
            f"{result.model} ({', '.join(result.fields)}): {result.scanned} rows scanned, {result.rotated} {self.verb}."
        )
        return result.rotated
