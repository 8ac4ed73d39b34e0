"""Rebuild the phone blind indexes (E.164 in FINPULSE_PHONE_REGION; see apps.core.phones).

Run after upgrading to E.164 indexes or after changing FINPULSE_PHONE_REGION, until it exits 0.
Interrupted or stopped at --limit, it says where to resume (--after PK); a plain rerun is also
safe (it writes only indexes that still differ).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import models

from apps.core.batch_command import BatchCommand, BatchRun
from apps.core.phone_reindex import DEFAULT_BATCH_SIZE, PhoneReindex, phone_models, reindex_phones


class Command(BatchCommand):
    help = "Recompute the phone blind indexes in E.164, in resumable batches."
    default_batch_size = DEFAULT_BATCH_SIZE
    model_help = "Only this model: customers.Customer or leads.Lead."
    limit_help = "Read at most this many rows per model, then stop."
    verbs = ("would change", "changed")
    progress_verbosity = 2
    find_models = staticmethod(phone_models)

    def add_more_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--after", type=int, help="Start after this primary key (what a stopped run reported).")

    def header(self) -> str:
        return f"Phone region {settings.FINPULSE_PHONE_REGION}"

    def run(self, model_classes: list[type[models.Model]], how: BatchRun) -> None:
        verb = self.verb

        def progress(result: PhoneReindex) -> None:
            self.progress(f"{result.model} up to pk {result.last_pk}: {result.scanned} read, {result.changed} {verb}")

        unfinished = []
        for model_class in model_classes:
            result = reindex_phones(
                model_class,
                batch_size=how.batch_size,
                after=how.extra["after"],
                limit=how.limit,
                dry_run=how.dry_run,
                progress=progress,
            )
            self.stdout.write(f"{result.model}: {result.scanned} rows read, {result.changed} index(es) {verb}.")
            if result.stopped_early:
                unfinished.append(f"{result.model} (resume with --model {result.model} --after {result.last_pk})")
        if how.dry_run:
            self.stdout.write("Dry run: nothing was written.")
            return
        if unfinished:
            self.stop(f"Stopped at --limit: {'; '.join(unfinished)}.")
        self.stdout.write(self.style.SUCCESS("Done: every phone index is in E.164."))
