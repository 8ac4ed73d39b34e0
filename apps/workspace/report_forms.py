"""The book report's options (reporting currency, period): shape input, never save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.currencies import CURRENCY_CHOICES
from apps.core.fx import reporting_currency
from apps.workspace.book_report import ReportPeriod, report_period_days

PERIOD_CHOICES = [
    (30, _("Last 30 days")),
    (90, _("Last 90 days")),
    (182, _("Last 6 months")),
    (365, _("Last 12 months")),
]


class BookReportForm(forms.Form):
    currency = forms.ChoiceField(label=_("Reporting currency"), required=False, choices=CURRENCY_CHOICES)
    days = forms.TypedChoiceField(
        label=_("Tasks and advice of the"), required=False, coerce=int, choices=PERIOD_CHOICES, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = reporting_currency()
        self.fields["days"].initial = report_period_days()

    def options(self, today: Any) -> dict[str, Any]:
        """The report's arguments; the defaults when the form is empty or not valid."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        days = data.get("days") or report_period_days()
        return {"currency": data.get("currency") or reporting_currency(), "period": ReportPeriod.ending(today, days)}

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {key: value for key, value in data.items() if value}
