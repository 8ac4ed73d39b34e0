"""Check the audit trail: every event against its block, every block against the last and its anchor."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.audit_seal import verify_audit_trail

SHOWN = 50  # findings printed; the count says how many in all


class Command(BaseCommand):
    help = (
        "Verify the audit trail (events, blocks, anchors outside the database): exit 0 when intact, "
        "1 naming every block and event that does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Print every finding, not the first 50.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_audit_trail()
        summary = (
            f"{report.events} events in {report.blocks} blocks, {report.anchors} anchors, "
            f"{report.unsealed} events not sealed yet"
        )
        if report.findings:
            shown = report.findings if options["all"] else report.findings[:SHOWN]
            for finding in shown:
                self.stderr.write(f"BROKEN {finding}")
            more = len(report.findings) - len(shown)
            raise CommandError(
                f"Audit trail broken: {report.findings[0]}. {len(report.findings)} finding(s)"
                f"{f' ({more} not shown)' if more else ''}; {summary}.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {summary}"))
