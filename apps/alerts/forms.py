from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.alerts.models import Alert


class AlertFilterForm(forms.Form):
    """The alert list's filters: rule, customer (number or name) and state (active by default)."""

    rule = forms.ChoiceField(choices=[("", _("Every rule")), *Alert.Rule.choices], required=False, label=_("Rule"))
    customer = forms.CharField(max_length=100, required=False, label=_("Customer"), help_text=_("Number or name"))
    status = forms.ChoiceField(choices=[("", _("Active")), *Alert.Status.choices], required=False, label=_("State"))


class AcknowledgeForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label=_("Note"))


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=300, required=False, label=_("Why"))


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_("Why dismiss it"))
