"""Export the Merkle proof of one audit event as JSON, for an auditor to check (docs/compliance.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.audit_seal import event_proof
from apps.core.models import AuditEvent


class Command(BaseCommand):
    help = "Print the inclusion proof of one audit event: its canonical JSON, Merkle path, block and anchor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            event = AuditEvent.objects.get(pk=options["event_id"])
        except AuditEvent.DoesNotExist:
            raise CommandError(f"No audit event {options['event_id']}.", returncode=1) from None
        try:
            proof = event_proof(event)
        except LookupError as error:
            raise CommandError(str(error), returncode=1) from None
        self.stdout.write(json.dumps(proof, indent=2, sort_keys=True))
