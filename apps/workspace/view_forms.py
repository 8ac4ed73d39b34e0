"""Forms of saved views and bulk actions on the customer list: shape input, never save."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.currencies import CURRENCY_CHOICES
from apps.core.presentation import translated_choices
from apps.products.models import Product
from apps.workspace.models import SavedView
from apps.workspace.services import BULK_LIMIT, VIEW_NAME_MAX


class SaveViewForm(forms.Form):
    name = forms.CharField(label=_("Name of this view"), max_length=VIEW_NAME_MAX)
    sharing = forms.ChoiceField(
        label=_("Who sees it"), choices=translated_choices(SavedView.Sharing.choices), initial="private"
    )


class PinForm(forms.Form):
    pinned = forms.BooleanField(required=False)


class IdListField(forms.Field):
    """Ticked rows: customer ids as the checkboxes send them (many values of one name)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise forms.ValidationError("Select customers from the list.") from None
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(f"Select at most {BULK_LIMIT} customers at a time.")
        return ids

    def validate(self, value: Any) -> None:
        if not value:
            raise forms.ValidationError("Select at least one customer.")


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("task", "Create a task"),
        ("assign", "Assign to a colleague"),
        ("opportunity", "Add to an opportunity"),
        ("export", "Export"),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    customer = IdListField()
    title = forms.CharField(label=_("Task"), required=False, max_length=200)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    manager = forms.IntegerField(label=_("Colleague"), required=False, min_value=1)
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.filter(is_active=True)
    )
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=Decimal("0.01"), max_digits=18, decimal_places=2
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False, choices=[("", "—"), *CURRENCY_CHOICES])
    expected_close = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    include_pii = forms.BooleanField(label=_("Include personal data (recorded in the audit trail)"), required=False)
    reason = forms.CharField(label=_("Reason for including personal data"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "task":
            if not (data.get("title") or "").strip():
                self.add_error("title", "Say what the task is.")
            if not data.get("due_on"):
                self.add_error("due_on", "Give a due date.")
        if action == "assign" and not data.get("manager"):
            self.add_error("manager", "Choose the colleague.")
        if action == "opportunity":
            for name, message in (
                ("product", "Choose the product."),
                ("amount", "Give the amount."),
                ("currency", "Choose the currency."),
                ("expected_close", "Give the expected close date."),
            ):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        return data

    def due_at(self) -> dt.datetime:
        """End of the chosen business day in the bank's time zone (a day's task is due that day)."""
        day = self.cleaned_data["due_on"]
        return timezone.make_aware(dt.datetime.combine(day, dt.time(17, 0)))
