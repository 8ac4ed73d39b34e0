"""Rebuild the phone blind indexes (E.164 in FINPULSE_PHONE_REGION; see apps.core.phones).

Run after upgrading to E.164 indexes or after changing FINPULSE_PHONE_REGION, until it exits 0.
Interrupted or stopped at --limit, it says where to resume (--after PK); a plain rerun is also
safe (it writes only indexes that still differ).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.phone_reindex import DEFAULT_BATCH_SIZE, PhoneReindex, phone_models, reindex_phones


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Recompute the phone blind indexes in E.164, in resumable batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument("--model", help="Only this model: customers.Customer or leads.Lead.")
        parser.add_argument("--after", type=int, help="Start after this primary key (what a stopped run reported).")
        parser.add_argument("--limit", type=_positive, help="Read at most this many rows per model, then stop.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(
        self,
        *args: Any,
        batch_size: int,
        model: str | None,
        after: int | None,
        limit: int | None,
        dry_run: bool,
        **options: Any,
    ) -> None:
        try:
            models = phone_models(model)
        except LookupError as error:
            raise CommandError(str(error), returncode=1) from error
        verbose = options["verbosity"] >= 2
        verb = "would change" if dry_run else "changed"

        def progress(result: PhoneReindex) -> None:
            if verbose:
                self.stdout.write(
                    f"{result.model} up to pk {result.last_pk}: {result.scanned} read, {result.changed} {verb}"
                )

        self.stdout.write(f"Phone region {settings.FINPULSE_PHONE_REGION}; batch size {batch_size}.")
        unfinished = []
        for model_class in models:
            result = reindex_phones(
                model_class, batch_size=batch_size, after=after, limit=limit, dry_run=dry_run, progress=progress
            )
            self.stdout.write(f"{result.model}: {result.scanned} rows read, {result.changed} index(es) {verb}.")
            if result.stopped_early:
                unfinished.append(f"{result.model} (resume with --model {result.model} --after {result.last_pk})")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        if unfinished:
            raise CommandError(f"Stopped at --limit: {'; '.join(unfinished)}.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Done: every phone index is in E.164."))
