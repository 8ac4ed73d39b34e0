"""Seal committed audit events into blocks now and anchor them (beat does it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.anchors import anchor_store
from apps.core.audit_seal import seal_pending


class Command(BaseCommand):
    help = "Seal the committed, unsealed audit events into blocks and write each block's seal to the anchor store."

    def handle(self, *args: Any, **options: Any) -> None:
        store = anchor_store()
        blocks = seal_pending(store=store)
        events = sum(block.event_count for block in blocks)
        if blocks:
            self.stdout.write(
                f"Sealed {events} events in {len(blocks)} block(s) {blocks[0].index}-{blocks[-1].index}; "
                f"anchored in {store.location}"
            )
        else:
            self.stdout.write("Nothing to seal (no committed event below the oldest running transaction).")
