"""The audit-trail search form: shapes input for apps.workspace.audit_trail, never saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.workspace.audit_trail import AuditQuery


class AuditSearchForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer"), required=False, max_length=64, help_text=_("Customer id or core banking external id.")
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150, help_text=_('Username, or "system".'))
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=80,
        help_text=_('Exact, e.g. "customer.exported", or a prefix ending in ".", e.g. "customer.".'),
    )
    looked = forms.BooleanField(
        label=_("Who looked at this customer"),
        required=False,
        help_text=_("Only reads: 360 page views and reveals of personal data (with the customer above)."),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def to_query(self) -> AuditQuery:
        data = self.cleaned_data
        return AuditQuery(
            customer=data.get("customer") or "",
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            looked=bool(data.get("looked")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def search_params(self) -> dict[str, str]:
        """The search as query parameters (for the next page and the export), without the cursor."""
        return {name: str(value) for name, value in self.cleaned_data.items() if value and name != "before"}
