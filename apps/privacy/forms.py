from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.privacy.services import REFERENCE_MAX_LENGTH


class ErasureForm(forms.Form):
    reference = forms.CharField(
        max_length=REFERENCE_MAX_LENGTH, help_text=_("The data subject's request: ticket or letter reference.")
    )
    relationship_ended_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("When the relationship ended (today if empty): retention holds run from this date."),
    )
    confirm = forms.BooleanField(
        label=_("I confirm: personal data not under a retention hold is destroyed and cannot be recovered.")
    )
