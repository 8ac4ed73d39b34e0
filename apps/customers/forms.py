"""Forms that shape input for customer writes (admin and pages); they never save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.customers.fields import PROFILE_FIELDS
from apps.customers.models import Customer
from apps.customers.visibility import assignable_managers
from apps.identity.models import Branch
from apps.products.models import Segment

if TYPE_CHECKING:
    from apps.identity.models import User


def manager_label(user: User) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return manager_label(obj)


class CustomerAdminForm(forms.ModelForm):
    """The customer's profile, including PII (decrypted only on one customer's change page)."""

    assignment_reason = forms.CharField(
        max_length=200,
        required=False,
        help_text=_("Why the primary manager changes; kept in the assignment history."),
    )

    class Meta:
        model = Customer
        fields = (
            "external_id",
            *PROFILE_FIELDS,
            "branch",
            "primary_manager",
        )


class ReassignCustomersForm(forms.Form):
    manager = ManagerChoiceField(queryset=get_user_model().objects.none(), help_text=_("The new primary manager."))
    reason = forms.CharField(max_length=200, required=True, help_text=_("Kept in each customer's assignment history."))

    def __init__(self, *args: Any, actor: User | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = assignable_managers(actor=actor)


# --- portfolio pages: administrators and branch managers move whole books ---------------

UNASSIGNED = "unassigned"


class BulkAssignForm(forms.Form):
    """Which customers (by filter) go to which manager."""

    current_manager = forms.CharField(
        required=False, label=_("Customers of"), help_text=_("A manager, 'unassigned', or blank for every customer.")
    )
    segment = forms.ChoiceField(required=False, choices=[("", "Any segment"), *Segment.choices])
    branch = forms.ModelChoiceField(queryset=Branch.objects.filter(is_active=True), required=False)
    to_manager = ManagerChoiceField(queryset=get_user_model().objects.none(), label=_("Assign to"))
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
    from_manager = ManagerChoiceField(queryset=get_user_model().objects.none(), label=_("From (leaving) manager"))
    to_manager = ManagerChoiceField(queryset=get_user_model().objects.none(), label=_("To manager"))
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
