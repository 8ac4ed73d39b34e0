"""Prepared statements (decision 141) and the statements planned with their values (decision 142).

The settings are read in a fresh process per case, as they are read once at start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from apps.core.plans import planned_with_values
from apps.workspace.book_report import book_report
from apps.workspace.customer_list import CustomerQuery, customer_list_page
from tests.conftest import database_url_for_processes

BASE_DIR = Path(__file__).resolve().parents[2]
PRINT_OPTIONS = (
    "import django, json; django.setup(); from django.conf import settings;"
    "print(json.dumps(settings.DATABASES['default']['OPTIONS'], default=str))"
)


def _options(**env: str) -> dict[str, object]:
    scrubbed = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    base = {"DJANGO_SETTINGS_MODULE": "finpulse.settings", "DATABASE_URL": database_url_for_processes()}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_OPTIONS],
        env={**scrubbed, **base, **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    options: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return options


@pytest.mark.django_db
def test_statements_are_bound_by_the_server_and_prepared_at_their_second_run_by_default():
    options = _options()
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "env", [{"DATABASE_PREPARE_THRESHOLD": "off"}, {"DATABASE_TRANSACTION_POOLING": "true"}], ids=["off", "pgbouncer"]
)
def test_off_or_behind_pgbouncer_nothing_is_prepared_and_django_binds_the_parameters(env):
    options = _options(**env)
    assert "server_side_binding" not in options
    assert options.get("prepare_threshold") is None


@pytest.mark.django_db
def test_another_threshold_is_taken_from_the_environment():
    assert _options(DATABASE_PREPARE_THRESHOLD="5")["prepare_threshold"] == 5


def _prepared(marker: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{marker}%"])
        return int(cursor.fetchone()[0])


def _run(marker: str, times: int) -> None:
    for _ in range(times):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT %s::int /* {marker} */", [1])  # nosec B608 - fixed marker
            assert cursor.fetchone() == (1,)


@pytest.mark.django_db
def test_a_statement_run_twice_is_prepared_but_not_inside_planned_with_values():
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    assert threshold == 2, "the test database runs with the default DATABASE_PREPARE_THRESHOLD"
    _run("prep-outside", 3)
    assert _prepared("prep-outside") == 1
    with planned_with_values():
        _run("prep-inside", 5)
    assert _prepared("prep-inside") == 0
    assert connection.connection.prepare_threshold == threshold
    _run("prep-inside", 3)
    assert _prepared("prep-inside") == 1


@pytest.mark.django_db
def test_the_book_report_prepares_none_of_its_statements(branch_manager, manager):
    connection.ensure_connection()
    before = _prepared("")
    for user in (branch_manager, manager, branch_manager):
        book_report(user=user)
    assert _prepared("") == before


@pytest.mark.django_db
def test_the_customer_list_over_the_whole_bank_prepares_none_of_its_statements(compliance_officer, manager):
    overdue = CustomerQuery(contact_overdue=True, sort="name")
    connection.ensure_connection()
    before = _prepared("")
    for _ in range(3):
        customer_list_page(user=compliance_officer, query=overdue)
    assert _prepared("") == before
    for _ in range(3):
        customer_list_page(user=manager, query=overdue)  # a manager's book: prepared as usual
    assert _prepared("") > before
