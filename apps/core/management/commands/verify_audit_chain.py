"""Check the audit trail's hash chain; name the first row that does not verify."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.audit import check_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain: exit 0 when intact, 1 naming the first bad row."

    def handle(self, *args: Any, **options: Any) -> None:
        report = check_chain()
        if report.first_break is not None:
            bad = report.first_break
            raise CommandError(
                f"Audit chain broken at event id {bad.event_id} (action {bad.action!r}): {bad.reason}. "
                f"{report.broken} bad row(s) among {report.verified} events.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {report.verified} events verified"))
