"""Input of the four-eyes pages; they validate, they never save."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DecisionForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=500,
        label=_("Note"),
        help_text=_("Why you reject it (required to reject); optional when approving."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
