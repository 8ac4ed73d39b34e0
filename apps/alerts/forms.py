from __future__ import annotations

from django import forms


class AcknowledgeForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label="Note")


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Snooze until", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=300, required=False, label="Why")


class DismissForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why dismiss it")
