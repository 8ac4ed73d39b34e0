"""Forget Idempotency-Keys older than 24 hours (run daily; expired keys are ignored anyway)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.api.idempotency import purge_expired_records


class Command(BaseCommand):
    help = "Delete idempotency records whose 24-hour lifetime has ended."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired_records()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
