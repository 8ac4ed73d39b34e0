"""Load the demo data (docs/demo.md): idempotent, refused in production."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import DomainError
from apps.demo.catalog import USERS
from apps.demo.seed import seed_demo
from apps.demo.writers.identity import demo_password


class Command(BaseCommand):
    help = (
        "Create demo branches, users for every role, a product catalog and 320 customers with holdings, "
        "documents and tasks. Safe to run again: existing demo data is left as it is. Refused in production."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        verbose = options["verbosity"] >= 1

        def progress(done: int, total: int) -> None:
            if verbose and (done % 50 == 0 or done == total):
                self.stdout.write(f"  customers written: {done}/{total}")

        try:
            report = seed_demo(progress=progress)
        except DomainError as error:
            raise CommandError(str(error), returncode=1) from error
        if not verbose:
            return
        elapsed = time.monotonic() - started
        if report.changed:
            created = ", ".join(f"{count} {name}" for name, count in report.created.items() if count)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f}s: created {created}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Demo data already present: nothing changed ({elapsed:.1f}s)."))
        self.stdout.write("In the database: " + ", ".join(f"{n} {name}" for name, n in report.totals.items()) + ".")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo_password()}):")
        self.stdout.write(f"  {'username':<20} {'role':<26} branch")
        for spec in USERS:
            role = spec.role + (" (superuser)" if spec.is_superuser else "")
            self.stdout.write(f"  {spec.username:<20} {role:<26} {spec.branch_code or '-'}")
