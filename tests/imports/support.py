"""Writing import files and running the commands the way an operator does."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError

CUSTOMER_HEADER = [
    "external_id",
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "date_of_birth",
    "national_id",
    "email",
    "phone",
    "address",
    "segment",
    "annual_income",
    "income_currency",
    "branch_code",
    "manager_username",
]


def write_csv(
    path: Path, rows: Iterable[Mapping[str, Any]], *, header: list[str], delimiter: str = ",", bom: bool = False
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=delimiter, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({name: row.get(name, "") for name in header})
    return path


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def customer_row(n: int, *, branch_code: str, manager: str = "", **overrides: Any) -> dict[str, Any]:
    row = {
        "external_id": f"IMP{n:06d}",
        "kind": "individual",
        "first_name": "Ada",
        "last_name": f"Lovelace{n}",
        "date_of_birth": "1985-12-10",
        "national_id": f"AB{n:06d}C",
        "email": f"ada{n}@mail.example",
        "phone": f"+44 7800 {n:06d}",
        "address": f"{n} Analytical Row, London",
        "segment": "affluent",
        "annual_income": "85000.00",
        "income_currency": "GBP",
        "branch_code": branch_code,
        "manager_username": manager,
    }
    row.update(overrides)
    return row


@dataclass
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


def run_command(name: str, *args: Any, **options: Any) -> CommandResult:
    """call_command, with the exit code the shell would see (CommandError.returncode)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command(name, *[str(a) for a in args], stdout=stdout, stderr=stderr, **options)
    except CommandError as error:
        return CommandResult(error.returncode, stdout.getvalue(), stderr.getvalue() + str(error))
    return CommandResult(0, stdout.getvalue(), stderr.getvalue())


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
