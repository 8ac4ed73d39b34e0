"""Opportunity forms: shape input only; the services decide and save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.currencies import CURRENCY_CHOICES
from apps.opportunities.models import REASON_MAX_LENGTH, Stage
from apps.opportunities.services import NEXT_STEP_MAX_LENGTH
from apps.products.models import Product


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class OpportunityForm(forms.Form):
    product = ProductChoiceField(queryset=Product.objects.none(), label=_("Product"))
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="GBP")
    expected_close = forms.DateField(label=_("Expected close"), widget=DateInput())
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=NEXT_STEP_MAX_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True).order_by("name")


class NewOpportunityForm(OpportunityForm):
    """From the board: the customer is named by their customer number."""

    customer = forms.CharField(
        label=_("Customer number"), max_length=64, help_text=_("The customer's number, as on their page.")
    )
    field_order = ["customer", "product", "amount", "currency", "expected_close", "next_step"]


class ChangeOpportunityForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), max_digits=18, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    probability = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100)
    expected_close = forms.DateField(label=_("Expected close"), widget=DateInput())
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=NEXT_STEP_MAX_LENGTH)


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), label=_("Move to"), empty_label=None)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(is_active=True)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("won", _("Won")), ("lost", _("Lost"))])
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH)


class BoardFilterForm(forms.Form):
    mine = forms.BooleanField(required=False, label=_("Only mine"))
