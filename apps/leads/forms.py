"""Lead forms: shape input only; the services decide and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.presentation import translated_choices
from apps.identity.models import Branch
from apps.leads.fields import CORRECTABLE_FIELDS
from apps.leads.models import Constraint, Intent, Lead, LoanPurpose
from apps.leads.services import MAX_INQUIRY_CHARS, MAX_NAME_CHARS, NewCustomerDetails
from apps.products.models import RiskProfile

HONEYPOT_FIELD = "website"


class LeadApplyForm(forms.Form):
    """The public form. `website` is a honeypot: hidden from people, filled in by bots."""

    full_name = forms.CharField(label=_("Your name"), max_length=MAX_NAME_CHARS)
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    branch = forms.ModelChoiceField(
        label=_("Preferred branch"),
        queryset=Branch.objects.filter(is_active=True).order_by("name"),
        to_field_name="code",
        required=False,
        empty_label=_("No preference"),
    )
    inquiry = forms.CharField(
        label=_("How can we help?"),
        max_length=MAX_INQUIRY_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For example what you would like to borrow, save or invest, and your monthly income."),
    )
    contact_consent = forms.BooleanField(
        label=_("I agree that the bank contacts me about this request."),
        error_messages={"required": "We need your agreement to contact you about this request."},
    )
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("email") or (data.get("phone") or "").strip()) and "email" not in self.errors:
            self.add_error("email", "Give an e-mail address or a phone number so that we can reply.")
        return data

    @property
    def is_bot(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("Open")), *translated_choices(Lead.State.choices)], required=False
    )
    intent = forms.ChoiceField(choices=[("", "Any"), *Intent.choices], required=False)
    overdue = forms.BooleanField(required=False, label=_("First contact overdue"))


class CorrectFieldsForm(forms.Form):
    intent = forms.ChoiceField(choices=Intent.choices)
    monthly_income = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    requested_amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(required=False, max_length=3)
    loan_purpose = forms.ChoiceField(choices=[("", "Not stated"), *LoanPurpose.choices], required=False)
    constraints = forms.MultipleChoiceField(
        choices=Constraint.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(required=False, max_length=500, label=_("Why (optional)"))

    @classmethod
    def for_lead(cls, lead: Lead) -> CorrectFieldsForm:
        initial = {name: getattr(lead, name) for name in CORRECTABLE_FIELDS}
        return cls(initial={**initial, "intent": lead.intent or Intent.OTHER})

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name in CORRECTABLE_FIELDS}


class AdvisorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class AssignForm(forms.Form):
    assignee = AdvisorChoiceField(queryset=None, required=False, empty_label=_("Route automatically"))
    reason = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, advisors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = advisors


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


class RevealReasonForm(forms.Form):
    # Required by the service (apps.core.audit.clean_reveal_reason): one rule for every reveal.
    reason = forms.CharField(
        label=_("Reason for revealing"),
        max_length=200,
        required=False,
        help_text=_("Kept in the audit trail with your name."),
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class ConvertForm(forms.Form):
    """Link an existing customer, or give the new customer's details and risk assessment.

    Nothing is required here: the service says what is missing (one rule for page and API)."""

    customer = forms.IntegerField(
        required=False,
        min_value=1,
        label=_("Existing customer id"),
        help_text=_("Leave empty to open a new customer with the details below."),
    )
    first_name = forms.CharField(label=_("First name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Last name or company name"), required=False, max_length=100)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    risk_profile = forms.TypedChoiceField(
        label=_("Risk assessment result"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Not assessed yet"), *RiskProfile.choices],
        help_text=_("From the risk questionnaire done with the customer. Needed to open a new customer."),
    )

    def new_customer_details(self) -> NewCustomerDetails | None:
        data = self.cleaned_data
        if not (data.get("first_name") or data.get("last_name") or data.get("risk_profile")):
            return None
        return NewCustomerDetails(
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            risk_profile=data.get("risk_profile"),
            date_of_birth=data.get("date_of_birth"),
        )
