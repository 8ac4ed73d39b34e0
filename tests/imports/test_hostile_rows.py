"""A hostile import corpus: every bad value is a row error naming its column, never a crashed
run or a stored NUL (issue #16, items 5 and 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.accounts.models import Holding
from apps.customers.models import Customer
from tests.customers.factories import CustomerFactory
from tests.imports.support import CUSTOMER_HEADER, customer_row, read_report, run_command, write_csv
from tests.products.factories import ProductFactory


def _write_jsonl_text(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(n: int, branch_code: str, income: str) -> str:
    return (
        f'{{"external_id": "NUM{n}", "kind": "individual", "first_name": "Ada", "last_name": "L{n}",'
        f' "branch_code": "{branch_code}", "annual_income": {income}}}'
    )


def test_overflowing_and_non_numbers_in_json_lines_are_row_errors(tmp_path, branch):
    lines = [
        _line(1, branch.code, "1000"),
        *(_line(n, branch.code, v) for n, v in ((2, "1e309"), (3, "NaN"), (4, "Infinity"), (5, "-Infinity"))),
    ]
    path = _write_jsonl_text(tmp_path / "customers.jsonl", lines)

    result = run_command("import_customers", path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["NUM1"]
    report = read_report(tmp_path / "customers.errors.csv")
    assert sorted(int(r["row"]) for r in report) == [2, 3, 4, 5]


@pytest.mark.parametrize("value", ["1e309", "NaN", "Infinity", "-Infinity"])
def test_overflowing_and_non_numbers_in_csv_are_row_errors(tmp_path, branch, value):
    rows = [customer_row(1, branch_code=branch.code), customer_row(2, branch_code=branch.code, annual_income=value)]
    path = write_csv(tmp_path / "customers.csv", rows, header=CUSTOMER_HEADER)

    result = run_command("import_customers", path)

    assert result.returncode == 1
    report = read_report(tmp_path / "customers.errors.csv")
    assert [(int(r["row"]), r["column"]) for r in report] == [(3, "annual_income")]


@pytest.mark.parametrize(
    "column", ["first_name", "last_name", "address", "national_id", "email", "phone", "branch_code"]
)
def test_a_nul_byte_in_any_field_is_a_row_error_naming_the_column(tmp_path, branch, column):
    good = customer_row(1, branch_code=branch.code)
    bad = customer_row(2, branch_code=branch.code)
    bad[column] = f"{bad[column][:3]}\x00{bad[column][3:]}"
    path = write_csv(tmp_path / "customers.csv", [good, bad], header=CUSTOMER_HEADER)

    result = run_command("import_customers", path)

    assert result.returncode == 1, result.stdout + result.stderr
    report = read_report(tmp_path / "customers.errors.csv")
    assert [(int(r["row"]), r["column"]) for r in report] == [(3, column)]
    assert "NUL" in report[0]["message"]
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["IMP000001"]


@pytest.mark.parametrize("country", ["ZZ", "XX", "AA"])
def test_an_unknown_country_code_is_refused(tmp_path, branch, country):
    rows = [customer_row(1, branch_code=branch.code, country=country)]
    path = write_csv(tmp_path / "customers.csv", rows, header=[*CUSTOMER_HEADER, "country"])

    result = run_command("import_customers", path)

    assert result.returncode == 1
    assert [r["column"] for r in read_report(tmp_path / "customers.errors.csv")] == ["country"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("number", ['=HYPERLINK("http://evil.example")', "+44123", "-1234", "@SUM(A1)"])
def test_a_holding_number_that_a_spreadsheet_would_run_is_refused(tmp_path, branch, number):
    CustomerFactory(external_id="CUST-A", branch=branch)
    ProductFactory(code="TD12", category="deposit")
    row = {
        "external_id": "H-1",
        "category": "term_deposit",
        "product_code": "TD12",
        "parties": "CUST-A",
        "number": number,
        "currency": "GBP",
        "balance": "100.00",
        "opened_on": "2025-06-01",
        "maturity_date": "2026-06-01",
        "maturity_instruction": "renew",
    }
    path = write_csv(tmp_path / "holdings.csv", [row], header=list(row))

    result = run_command("import_holdings", path)

    assert result.returncode == 1
    assert [r["column"] for r in read_report(tmp_path / "holdings.errors.csv")] == ["number"]
    assert not Holding.objects.exists()
