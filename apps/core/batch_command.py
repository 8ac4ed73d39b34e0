"""What the resumable batch commands over stored key material share (`rotate_encryption_key`,
`reindex_phones`): the options, the model lookup, the progress lines and how a run ends.

Each walks one or more models in primary-key order, one locked transaction and one audit event
per batch (apps.core.rotation, apps.core.phone_reindex). A run can be capped with `--limit` and
run again to resume, or tried with `--dry-run`, which counts and writes nothing. A model that
cannot be named, a value no key reads or a run stopped early exits 1, so a deployment script
knows to run it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models


def positive(value: str) -> int:
    """An argparse type: a whole number of at least 1 (a batch size or a limit of 0 is a typo)."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


@dataclass(frozen=True)
class BatchRun:
    """How this run was asked to go: rows per transaction, the row cap, whether to write, and
    the command's own options (`extra`)."""

    batch_size: int
    limit: int | None
    dry_run: bool
    extra: dict[str, Any]


class BatchCommand(BaseCommand):
    """A command that runs `run_model`-like work over models in resumable batches.

    Subclasses set the texts and `find_models`, add options between --model and --limit in
    `add_more_arguments`, and write `run(model_classes, how)`; `progress()` prints a batch's line at
    `progress_verbosity` and above, `stop()` ends a run that is unfinished or refused.
    """

    default_batch_size: int
    model_help: str
    limit_help: str
    verbs: tuple[str, str]  # what a batch does to a row: (in a dry run, in a real run)
    progress_verbosity = 1

    def add_arguments(self, parser: CommandParser) -> None:
        rows = "Rows per transaction."
        parser.add_argument("--batch-size", type=positive, default=self.default_batch_size, help=rows)
        parser.add_argument("--model", help=self.model_help)
        self.add_more_arguments(parser)
        parser.add_argument("--limit", type=positive, help=self.limit_help)
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    @staticmethod
    def find_models(label: str | None) -> list[type[models.Model]]:
        """Every model the command works on, or the one named; LookupError for an unknown one."""
        raise NotImplementedError

    def add_more_arguments(self, parser: CommandParser) -> None:
        """Options of one command only (none by default)."""

    def header(self) -> str:
        """What the run works with (the key, the region), printed before the batch size."""
        raise NotImplementedError

    def run(self, model_classes: list[type[models.Model]], how: BatchRun) -> None:
        """Work through each model in batches, say what was done, and end as the run went."""
        raise NotImplementedError

    def handle(
        self, *args: Any, model: str | None, batch_size: int, limit: int | None, dry_run: bool, **options: Any
    ) -> None:
        try:
            chosen = self.find_models(model)
        except LookupError as error:
            raise CommandError(str(error), returncode=1) from error
        self.verb = self.verbs[0] if dry_run else self.verbs[1]
        self.verbose = options["verbosity"] >= self.progress_verbosity
        self.stdout.write(f"{self.header()}; batch size {batch_size}.")
        self.run(chosen, BatchRun(batch_size=batch_size, limit=limit, dry_run=dry_run, extra=options))

    def progress(self, line: str) -> None:
        if self.verbose:
            self.stdout.write(line)

    def stop(self, message: str) -> None:
        """End the run unfinished or refused: exit status 1 with the reason."""
        raise CommandError(message, returncode=1)
