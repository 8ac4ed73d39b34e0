"""Give customers created before per-customer keys their own data key (resumable)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.customers.data_keys import WrapResult, wrap_customer_data_keys


class Command(BaseCommand):
    help = "Encrypt each existing customer's PII under its own data key (crypto-shredding). Safe to rerun."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many customers.")

    def handle(self, *args: Any, batch_size: int, limit: int | None, **options: Any) -> None:
        def progress(result: WrapResult) -> None:
            self.stdout.write(f"{result.customers} customers, {result.values} values moved")

        result = wrap_customer_data_keys(batch_size=batch_size, limit=limit, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Done: {result.customers} customers given a data key."))
