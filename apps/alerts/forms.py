from __future__ import annotations

from django import forms

from apps.alerts.models import Alert


class AlertFilterForm(forms.Form):
    """The alert list's filters: rule, customer (number or name) and state (active by default)."""

    rule = forms.ChoiceField(choices=[("", "Every rule"), *Alert.Rule.choices], required=False, label="Rule")
    customer = forms.CharField(max_length=100, required=False, label="Customer", help_text="Number or name")
    status = forms.ChoiceField(choices=[("", "Active"), *Alert.Status.choices], required=False, label="State")


class AcknowledgeForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label="Note")


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Snooze until", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=300, required=False, label="Why")


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why dismiss it")
