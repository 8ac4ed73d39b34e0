"""A killed import loses nothing it committed, and the same command finishes the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.core.models import AuditEvent
from apps.customers.models import Customer, CustomerAssignment, CustomerUserObjectPermission
from apps.imports.models import ImportRun
from tests.conftest import database_url_for_processes
from tests.imports.support import CUSTOMER_HEADER, customer_row, run_command, write_csv

ROOT = Path(settings.BASE_DIR)
ROWS = 2000
BATCH = 50


def _wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}.")
        time.sleep(0.05)


def _no_import_lock_held() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_mid_file_resumes_and_ends_with_exactly_the_files_content(tmp_path, branch, manager):
    rows = [customer_row(n, branch_code=branch.code, manager=manager.username) for n in range(ROWS)]
    path = write_csv(tmp_path / "big.csv", rows, header=CUSTOMER_HEADER)
    env = {**os.environ, "DATABASE_URL": database_url_for_processes(), "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, str(ROOT / "manage.py"), "import_customers", str(path), "--batch-size", str(BATCH)]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(
            lambda: ImportRun.objects.filter(last_committed_row__gt=0).exists() or process.poll() is not None,
            timeout=120,
            what="the first committed batch",
        )
        assert process.poll() is None, "the import finished before it could be killed; raise ROWS"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    _wait_for(_no_import_lock_held, timeout=30, what="PostgreSQL to release the dead process's lock")

    killed = ImportRun.objects.get()
    assert killed.status == ImportRun.Status.RUNNING  # it never got to say otherwise
    committed = Customer.objects.filter(external_id__startswith="IMP").count()
    assert 0 < committed < ROWS
    # The counters moved in the same transactions as the rows: they describe what is stored.
    assert killed.created == committed == killed.rows
    assert killed.last_committed_row == committed + 1  # row numbers start at 2 (the header is 1)

    result = run_command("import_customers", path, batch_size=BATCH)

    assert result.returncode == 0, result.stderr
    assert f"Resumed run #{killed.pk} of this file after row {killed.last_committed_row}" in result.stdout
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.COMPLETED and run.resumed == 1
    assert run.counts == {"rows": ROWS, "created": ROWS, "updated": 0, "unchanged": 0, "failed": 0, "duplicates": 0}
    customers = Customer.objects.filter(external_id__startswith="IMP")
    assert customers.count() == ROWS
    assert set(customers.values_list("external_id", flat=True)) == {row["external_id"] for row in rows}
    for n in (0, committed - 1, committed, ROWS - 1):
        customer = Customer.objects.get(external_id=rows[n]["external_id"])
        assert (customer.email, customer.national_id, customer.phone) == (
            rows[n]["email"],
            rows[n]["national_id"],
            rows[n]["phone"],
        )
        assert customer.primary_manager_id == manager.pk
    assert CustomerUserObjectPermission.objects.filter(user=manager).count() == 2 * ROWS
    assert CustomerAssignment.objects.filter(manager=manager, ended_at__isnull=True).count() == ROWS
    assert AuditEvent.objects.filter(action="customer.imported").count() == ROWS
    assert AuditEvent.objects.filter(action="import.completed").count() == 1

    again = run_command("import_customers", path, batch_size=BATCH)

    assert again.returncode == 0 and "Nothing changed" in again.stdout
