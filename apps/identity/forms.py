"""Input shapes for sign-in and portfolio pages; they validate, they never save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from apps.identity.models import Branch, User
from apps.products.models import Segment


class BreakGlassForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    otp_token = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\d{6,8}$",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TwoFactorForm(forms.Form):
    otp_token = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\d{6,8}$",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def manager_label(user: User) -> str:
    return f"{user.get_full_name() or user.username} ({user.username})"


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return manager_label(obj)


UNASSIGNED = "unassigned"


class BulkAssignForm(forms.Form):
    """Which customers (by filter) go to which manager."""

    current_manager = forms.CharField(
        required=False, label="Customers of", help_text="A manager, 'unassigned', or blank for every customer."
    )
    segment = forms.ChoiceField(required=False, choices=[("", "Any segment"), *Segment.choices])
    branch = forms.ModelChoiceField(queryset=Branch.objects.filter(is_active=True), required=False)
    to_manager = ManagerChoiceField(queryset=User.objects.none(), label="Assign to")
    reason = forms.CharField(max_length=200)

    def __init__(self, *args: Any, managers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.managers = managers
        self.fields["to_manager"].queryset = managers
        self.fields["current_manager"].widget = forms.Select(
            choices=[("", "Every customer I can see"), (UNASSIGNED, "Unassigned customers")]
            + [(str(manager.pk), manager_label(manager)) for manager in managers]
        )

    def clean_current_manager(self) -> str | User | None:
        value = self.cleaned_data.get("current_manager") or ""
        if value in ("", UNASSIGNED):
            return value or None
        manager = self.managers.filter(pk=value).first() if value.isdigit() else None
        if manager is None:
            raise forms.ValidationError("Choose a manager from the list.")
        return manager


class TransferPortfolioForm(forms.Form):
    from_manager = ManagerChoiceField(queryset=User.objects.none(), label="From (leaving) manager")
    to_manager = ManagerChoiceField(queryset=User.objects.none(), label="To manager")
    reason = forms.CharField(max_length=200)

    def __init__(self, *args: Any, managers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_manager"].queryset = managers
        self.fields["to_manager"].queryset = managers

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("from_manager") and data.get("from_manager") == data.get("to_manager"):
            self.add_error("to_manager", "Choose a different manager to receive the portfolio.")
        return data
