"""Forms that shape input for customer writes (admin and pages); they never save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.customers.fields import PROFILE_FIELDS
from apps.customers.models import Customer
from apps.identity import roles


def assignable_managers(*, actor: Any) -> QuerySet[Any]:
    """Employees who can be given customers; a branch manager only offers their own branch."""
    managers = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[roles.RELATIONSHIP_MANAGER, roles.BRANCH_MANAGER])
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    if not actor.is_administrator and actor.is_branch_manager:
        managers = managers.filter(branch_id=actor.branch_id)
    return managers


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.get_username()})" if name else obj.get_username()


class CustomerAdminForm(forms.ModelForm):
    """The customer's profile, including PII (decrypted only on one customer's change page)."""

    assignment_reason = forms.CharField(
        max_length=200,
        required=False,
        help_text="Why the primary manager changes; kept in the assignment history.",
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
    manager = ManagerChoiceField(queryset=get_user_model().objects.none(), help_text="The new primary manager.")
    reason = forms.CharField(max_length=200, required=True, help_text="Kept in each customer's assignment history.")

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = assignable_managers(actor=actor)
