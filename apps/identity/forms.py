"""Input shapes for the sign-in pages; they validate, they never save."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BreakGlassForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    otp_token = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\d{6,8}$",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TwoFactorForm(forms.Form):
    otp_token = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\d{6,8}$",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
