"""Input of the break-glass request page; it validates, it never saves."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BreakGlassRequestForm(forms.Form):
    external_id = forms.CharField(
        max_length=64, label=_("Customer number"), help_text=_("The customer's number in the core banking system.")
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need this customer now. The customer's manager and compliance will read it."),
    )
