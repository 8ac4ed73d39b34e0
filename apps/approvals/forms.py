"""Input of the four-eyes pages; they validate, they never save."""

from __future__ import annotations

from django import forms


class DecisionForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=500,
        label="Note",
        help_text="Why you reject it (required to reject); optional when approving.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
