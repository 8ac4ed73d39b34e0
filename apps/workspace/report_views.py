"""The book report page and its CSV export: thin, one selector call each."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.core.business_date import business_today
from apps.core.fx import quoted_currencies
from apps.core.machine_format import machine_language
from apps.workspace.book_report import BookReport, book_report
from apps.workspace.report_csv import report_rows
from apps.workspace.report_forms import BookReportForm
from apps.workspace.services import record_report_export


def drill_down(**filters: Any) -> str:
    """The customer list filtered to the customers behind one bar or row of the report."""
    return reverse("customers:list") + "?" + urlencode({**filters, "sort": "name"})


def _chart_data(report: BookReport) -> dict[str, Any]:
    """What the charts draw (strings, not floats: nothing adds them up in the browser), with
    the drill-down link of each bar. Labels in the reader's language (the CSV keeps en-gb)."""
    currency = report.reporting_currency
    categories: dict[str, dict[str, Any]] = {}
    for row in report.positions:
        entry = categories.setdefault(row.category, {"label": _(row.category_label), "held": 0, "owed": 0})
        if row.money.converted is not None:
            entry[row.side] += row.money.converted
    positions = {
        "kind": "stacked",
        "currency": currency,
        "labels": [entry["label"] for entry in categories.values()],
        "links": [drill_down(holding_category=category) for category in categories],
        "datasets": [
            {"label": _("Held (%(cur)s)") % {"cur": currency}, "values": [str(e["held"]) for e in categories.values()]},
            {"label": _("Owed (%(cur)s)") % {"cur": currency}, "values": [str(e["owed"]) for e in categories.values()]},
        ],
    }
    ladder = {
        "kind": "stacked",
        "currency": currency,
        "labels": [date_format(week.start, "MONTH_DAY_FORMAT") for week in report.ladder],
        "links": [
            drill_down(matures_from=week.start.isoformat(), matures_to=week.end.isoformat()) for week in report.ladder
        ],
        "datasets": [
            {
                "label": _("Deposits and investments (%(cur)s)") % {"cur": currency},
                "values": [str(w.held_total.total) for w in report.ladder],
            },
            {
                "label": _("Loans (%(cur)s)") % {"cur": currency},
                "values": [str(w.owed_total.total) for w in report.ladder],
            },
        ],
    }
    cadence = {
        "kind": "stacked",
        "currency": "",
        "labels": [_(row.label) for row in report.cadence],
        "links": [drill_down(segment=row.segment, contact_overdue="on") for row in report.cadence],
        "datasets": [
            {"label": _("Contacted in time"), "values": [str(row.compliant) for row in report.cadence]},
            {"label": _("Overdue"), "values": [str(row.overdue) for row in report.cadence]},
        ],
    }
    return {"positions": positions, "ladder": ladder, "cadence": cadence}


@login_required
@require_GET
def book_report_page(request: HttpRequest) -> HttpResponse:
    today = business_today()
    form = BookReportForm(request.GET or None)
    report = book_report(user=request.user, today=today, **form.options(today))
    context = {
        "form": form,
        "report": report,
        "charts": _chart_data(report),
        "export_query": urlencode(form.params()),
        "quoted_currencies": quoted_currencies(),
        "position_rows": [
            (row, drill_down(holding_category=row.category, currency=row.money.currency)) for row in report.positions
        ],
        "ladder_rows": [
            (week, drill_down(matures_from=week.start.isoformat(), matures_to=week.end.isoformat()))
            for week in report.ladder
        ],
        "cadence_rows": [(row, drill_down(segment=row.segment, contact_overdue="on")) for row in report.cadence],
        "manager_rows": [(row, drill_down(manager=row.manager_id)) for row in report.managers],
    }
    return render(request, "workspace/book_report.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _lines(rows: list[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # spreadsheet programs then read the file as UTF-8
    for row in rows:
        yield writer.writerow(row)


@login_required
@require_GET
def book_report_export(request: HttpRequest) -> HttpResponse:
    """The report's figures as CSV, audited before the first byte (report.exported)."""
    today = business_today()
    form = BookReportForm(request.GET or None)
    options = form.options(today)
    with machine_language():  # labels in the CSV stay en-gb (docs/decisions.md 90)
        report = book_report(user=request.user, today=today, **options)
        rows = report_rows(report)
    record_report_export(
        actor=request.user,
        report="book",
        filters={"currency": options["currency"], "from": str(report.period.start), "to": str(report.period.end)},
        rows=len(rows) - 1,
    )
    response = StreamingHttpResponse(_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="book-report-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
