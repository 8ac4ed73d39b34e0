"""The book report as CSV rows: each figure once, in its currency and in the reporting currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.workspace.book_report import BookReport, Converted

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ["Section", "Item", "Side", "Currency", "Amount", "Reporting currency", "Converted amount", "Note"]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Amounts are written as numbers (a loan is owed: positive, its side says so), so only text
    # such as a manager's name is neutralised.
    if text.startswith(FORMULA_TRIGGERS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _total(section: str, item: str, side: str, converted: Converted, currency: str) -> list[Any]:
    note = "; ".join(f"{m.currency} {m.amount} not converted: no rate loaded" for m in converted.missing)
    return [section, item, side, "", "", currency, converted.total, note]


def report_rows(report: BookReport) -> list[list[str]]:
    currency = report.reporting_currency
    rows: list[list[Any]] = [HEADER]
    for row in report.positions:
        money = row.money
        note = "" if money.converted is not None else "No rate loaded"
        rows.append(
            [
                "Assets and liabilities",
                row.category_label,
                row.side,
                money.currency,
                money.amount,
                currency,
                money.converted if money.converted is not None else "",
                note,
            ]
        )
    rows.append(_total("Assets and liabilities", "Total", "held", report.held, currency))
    rows.append(_total("Assets and liabilities", "Total", "owed", report.owed, currency))
    for week in report.ladder:
        item = f"Week {week.index + 1}: {week.start.isoformat()} to {week.end.isoformat()}"
        for side, amounts in (("held", week.held), ("owed", week.owed)):
            for money in amounts:
                rows.append(
                    [
                        "Maturity ladder",
                        item,
                        side,
                        money.currency,
                        money.amount,
                        currency,
                        money.converted if money.converted is not None else "",
                        "" if money.converted is not None else "No rate loaded",
                    ]
                )
    for cadence in report.cadence:
        rows.append(
            [
                "Contact cadence",
                cadence.label,
                "overdue",
                "",
                cadence.overdue,
                "",
                "",
                f"{cadence.customers} active customers; contact every {cadence.cadence_days} days",
            ]
        )
    tasks = report.tasks
    rows.append(
        ["Tasks", "Due in the period", "", "", tasks.due, "", "", f"{report.period.start} to {report.period.end}"]
    )
    rows.append(["Tasks", "Done on time", "", "", tasks.on_time, "", "", ""])
    rows.append(["Tasks", "Done late", "", "", tasks.late, "", "", ""])
    rows.append(["Tasks", "Open and overdue", "", "", tasks.open_overdue, "", "", ""])
    rows.append(["Advice", "Accepted", "", "", report.advice.accepted, "", "", ""])
    rows.append(["Advice", "Dismissed", "", "", report.advice.dismissed, "", "", ""])
    for stage in report.pipeline:
        for label, amounts in (("value", stage.value), ("weighted value", stage.weighted)):
            for money in amounts:
                rows.append(
                    [
                        "Pipeline by stage",
                        stage.name,
                        label,
                        money.currency,
                        money.amount,
                        currency,
                        money.converted if money.converted is not None else "",
                        "" if money.converted is not None else "No rate loaded",
                    ]
                )
        rows.append(["Pipeline by stage", stage.name, "open opportunities", "", stage.opportunities, "", "", ""])
    for manager in report.managers:
        rows.append(_total("Per manager", manager.name, "held", manager.held, currency))
        rows.append(_total("Per manager", manager.name, "owed", manager.owed, currency))
        rows.append(
            [
                "Per manager",
                manager.name,
                "overdue contacts",
                "",
                manager.overdue,
                "",
                "",
                f"of {manager.customers} active customers",
            ]
        )
        rows.append(
            [
                "Per manager",
                manager.name,
                "tasks on time",
                "",
                manager.tasks.on_time,
                "",
                "",
                f"of {manager.tasks.due} due",
            ]
        )
        rows.append(
            [
                "Per manager",
                manager.name,
                "advice accepted",
                "",
                manager.advice.accepted,
                "",
                "",
                f"of {manager.advice.decided} decided",
            ]
        )
    return [[_cell(value) for value in row] for row in rows]
