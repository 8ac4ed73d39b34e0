"""Reading files: BOM, delimiters, row numbers, bad files refused before anything is written."""

from __future__ import annotations

import pytest

from apps.customers.models import Customer
from apps.imports.models import ImportRun
from apps.imports.readers import CsvRows, detect_delimiter
from tests.identity.factories import UserFactory
from tests.imports.support import CUSTOMER_HEADER, customer_row, read_report, run_command, write_csv


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected_and_a_bom_is_ignored(tmp_path, branch, delimiter):
    rows = [customer_row(n, branch_code=branch.code, address="1 High St, Leeds") for n in range(3)]
    path = write_csv(tmp_path / "c.csv", rows, header=CUSTOMER_HEADER, delimiter=delimiter, bom=True)

    assert detect_delimiter(path) == delimiter
    result = run_command("import_customers", path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert Customer.objects.get(external_id="IMP000001").address == "1 High St, Leeds"


def test_a_given_delimiter_wins_over_detection(tmp_path, branch):
    path = write_csv(
        tmp_path / "c.csv", [customer_row(1, branch_code=branch.code)], header=CUSTOMER_HEADER, delimiter="\t"
    )

    result = run_command("import_customers", path, delimiter="tab")

    assert result.returncode == 0
    assert Customer.objects.filter(external_id="IMP000001").exists()


def test_row_numbers_are_the_lines_a_person_finds_in_the_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('External ID,Last Name\nA1,"Two\nlines"\n\nA2,Smith\nA3\n', encoding="utf-8")

    rows = list(CsvRows(path, delimiter=","))

    assert [(r.number, r.values, bool(r.problem)) for r in rows] == [
        (2, {"external_id": "A1", "last_name": "Two\nlines"}, False),
        (5, {"external_id": "A2", "last_name": "Smith"}, False),
        (6, {"external_id": "A3"}, True),
    ]


def test_a_file_that_is_not_utf8_is_refused_before_anything_is_written(tmp_path, branch):
    path = write_csv(tmp_path / "c.csv", [customer_row(1, branch_code=branch.code)], header=CUSTOMER_HEADER)
    path.write_bytes(path.read_bytes() + "IMP9,individual,José\n".encode("latin-1"))

    result = run_command("import_customers", path)

    assert result.returncode == 2 and "not UTF-8" in result.stderr
    assert not Customer.objects.exists() and not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["external_id", "last_name", "emial"], "Unknown column(s): emial"),
        (["last_name"], "Missing required column(s): external_id"),
    ],
)
def test_a_bad_header_is_bad_usage(tmp_path, db, header, message):
    path = write_csv(tmp_path / "c.csv", [{"last_name": "X"}], header=header)

    result = run_command("import_customers", path)

    assert result.returncode == 2 and message in result.stderr


def test_a_missing_file_or_a_non_administrator_actor_is_bad_usage(tmp_path, branch, manager):
    assert run_command("import_customers", tmp_path / "missing.csv").returncode == 2
    path = write_csv(tmp_path / "c.csv", [customer_row(1, branch_code=branch.code)], header=CUSTOMER_HEADER)

    result = run_command("import_customers", path, actor=manager.username)

    assert result.returncode == 2 and "not an active administrator" in result.stderr


def test_an_administrator_actor_is_recorded_on_the_run_and_its_events(tmp_path, branch, administrator):
    path = write_csv(tmp_path / "c.csv", [customer_row(1, branch_code=branch.code)], header=CUSTOMER_HEADER)

    result = run_command("import_customers", path, actor=administrator.username)

    assert result.returncode == 0
    run = ImportRun.objects.get()
    assert (run.actor, run.actor_label) == (administrator, administrator.username)
    from apps.core.models import AuditEvent

    assert set(AuditEvent.objects.values_list("action", "actor_label")) >= {
        ("customer.imported", administrator.username),
        ("import.completed", administrator.username),
    }


def test_the_error_report_neutralises_formulas_from_the_file(tmp_path, branch):
    row = customer_row(1, branch_code=branch.code, segment='=HYPERLINK("http://evil.example")')
    path = write_csv(tmp_path / "c.csv", [row], header=CUSTOMER_HEADER)
    report_path = tmp_path / "out" / "report.csv"

    run_command("import_customers", path, error_report=report_path)

    [problem] = read_report(report_path)
    assert problem["value"].startswith("'=HYPERLINK")


def test_progress_lines_are_written_when_not_on_a_terminal(tmp_path, branch):
    path = write_csv(
        tmp_path / "c.csv", [customer_row(n, branch_code=branch.code) for n in range(5)], header=CUSTOMER_HEADER
    )

    result = run_command("import_customers", path, batch_size=2, progress_interval=0)

    assert "customers c.csv: 2/5 rows (40%)" in result.stderr
    assert "rows/s" in result.stderr and "created 2" in result.stderr


def test_a_person_without_rights_cannot_be_given_customers(tmp_path, branch):
    UserFactory(username="clerk")  # no relationship-manager role
    path = write_csv(
        tmp_path / "c.csv", [customer_row(1, branch_code=branch.code, manager="clerk")], header=CUSTOMER_HEADER
    )

    result = run_command("import_customers", path)

    assert result.returncode == 1
    [problem] = read_report(tmp_path / "c.errors.csv")
    assert problem["message"] == "'clerk' is not a relationship or branch manager."


def test_on_a_terminal_progress_is_a_bar_with_rate_and_eta(tmp_path, branch):
    import io

    from apps.imports.pipeline import Importer, ImportOptions

    path = write_csv(
        tmp_path / "c.csv", [customer_row(n, branch_code=branch.code) for n in range(3)], header=CUSTOMER_HEADER
    )
    stream = io.StringIO()

    Importer(ImportOptions(entity="customers", path=path, batch_size=1), stream=stream, interactive=True).run()

    assert "100%" in stream.getvalue() and "row/s" in stream.getvalue() and "failed=0" in stream.getvalue()
