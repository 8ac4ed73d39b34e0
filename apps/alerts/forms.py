from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.alerts.models import Alert
from apps.core.presentation import translated_choices


class AlertFilterForm(forms.Form):
    """The alert list's filters: rule, customer (number or name) and state (active by default)."""

    rule = forms.ChoiceField(
        choices=[("", _("Every rule")), *translated_choices(Alert.Rule.choices)], required=False, label=_("Rule")
    )
    customer = forms.CharField(max_length=100, required=False, label=_("Customer"), help_text=_("Number or name"))
    status = forms.ChoiceField(
        choices=[("", pgettext_lazy("alerts", "Active")), *translated_choices(Alert.Status.choices)],
        required=False,
        label=_("State"),
    )


class AcknowledgeForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label=_("Note"))


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=300, required=False, label=_("Why"))


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_("Why dismiss it"))
