"""Forms of the manager workspace (customer list, export, PII reveal): shape input, never save."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Holding
from apps.core.currencies import CURRENCY_CHOICES
from apps.core.presentation import translated_choices
from apps.customers.book_facts import book_branches
from apps.customers.fields import PII_FIELDS, PII_LABELS
from apps.customers.visibility import visible_customers
from apps.identity.models import Branch
from apps.products.models import Segment
from apps.workspace.customer_list import (
    NAME_SEARCH_MIN_LENGTH,
    SORT_LABELS,
    CustomerQuery,
    SearchKind,
    classify_search_term,
)

if TYPE_CHECKING:
    from apps.identity.models import User


class SharedFields(dict[str, forms.Field]):
    """A form class's `base_fields` that a form copies only where a form changes them.

    Django deep-copies every field of a form class for each form (so that a form may change its
    own): for the customer list's thirteen fields (choices, widgets, error messages) that was
    about 0.4 ms of every list and search request. Fields no form changes are shared by every
    form of the class, read only; those named in `copied` are deep-copied as Django does
    (decision 187)."""

    def __init__(self, fields: Mapping[str, forms.Field], *, copied: frozenset[str]) -> None:
        super().__init__(fields)
        self.copied = copied

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return {name: copy.deepcopy(field, memo) if name in self.copied else field for name, field in self.items()}


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Name (3+ characters), external id, or an exact email, phone or national id."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("Any segment")), *translated_choices(Segment.choices)]
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.filter(is_active=True), empty_label=_("Any branch")
    )
    kyc_due = forms.BooleanField(label=_("KYC review due"), required=False)
    maturing = forms.BooleanField(label=_("Has maturing products"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        # Default: best match for a name search, otherwise by name.
        choices=[("", _("Default")), *SORT_LABELS.items()],
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)
    # Drill-down from the book report: the customers behind one bar (hidden; the page names them).
    holding_category = forms.ChoiceField(
        required=False, widget=forms.HiddenInput, choices=[("", ""), *Holding.Category.choices]
    )
    currency = forms.ChoiceField(required=False, widget=forms.HiddenInput, choices=[("", ""), *CURRENCY_CHOICES])
    matures_from = forms.DateField(required=False, widget=forms.HiddenInput)
    matures_to = forms.DateField(required=False, widget=forms.HiddenInput)
    contact_overdue = forms.BooleanField(required=False, widget=forms.HiddenInput)
    manager = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._viewer = user
        if user is not None and self.is_bound and self.data.get(self.add_prefix("branch")):
            # Validates a chosen branch (a query only then); the options shown come from branch_options.
            # Without a chosen branch the queryset is never read (no value to look up), so the
            # filter is not built: about 0.5 ms of every list and search page (decision 171).
            seen = visible_customers(user=user).values("branch_id")
            branches = self.fields["branch"].queryset.filter(pk__in=seen)  # type: ignore[attr-defined]
            self.fields["branch"].queryset = branches  # type: ignore[attr-defined]

    def branch_options(self, *, found: Mapping[str, Any] | None = None) -> tuple[tuple[int, str], ...]:
        """The branch filter's options for this viewer, as (id, label): what its HTML shows (decision 112).

        The viewer's are remembered across their requests (apps.customers.book_facts, decision 150)
        and become the select's options, so rendering the bar asks no query either. `found`: the
        cache entries of `book_branches_keys` the caller read already (decision 187)."""
        if self._viewer is None:
            field = self.fields["branch"]
            return tuple((branch.pk, field.label_from_instance(branch)) for branch in field.queryset)  # type: ignore[attr-defined]
        options = book_branches(self._viewer, found=found)
        self.fields["branch"].widget.choices = [("", self.fields["branch"].empty_label), *options]  # type: ignore[attr-defined]
        return options

    def clean_q(self) -> str:
        term = " ".join(self.cleaned_data.get("q", "").split())
        if classify_search_term(term) == SearchKind.NAME and len(term) < NAME_SEARCH_MIN_LENGTH:
            raise forms.ValidationError(
                gettext(
                    "Type at least %(count)s characters to search by name, "
                    "or an exact email, phone number or national id."
                )
                % {"count": NAME_SEARCH_MIN_LENGTH}
            )
        return term

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or ""

    def to_query(self) -> CustomerQuery:
        data = self.cleaned_data
        term = data.get("q", "")
        sort = data.get("sort") or ("relevance" if classify_search_term(term) == SearchKind.NAME else "name")
        branch = data.get("branch")
        return CustomerQuery(
            term=term,
            segment=data.get("segment", ""),
            branch_id=branch.pk if branch else None,
            kyc_due=bool(data.get("kyc_due")),
            maturing=bool(data.get("maturing")),
            sort=sort,
            holding_category=data.get("holding_category") or "",
            currency=data.get("currency") or "",
            matures_from=data.get("matures_from"),
            matures_to=data.get("matures_to"),
            contact_overdue=bool(data.get("contact_overdue")),
            manager_id=data.get("manager"),
        )

    def drill_down_labels(self) -> list[str]:
        """The report's drill-down filters in words, for the line above the results."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        labels = []
        if data.get("holding_category"):
            labels.append(f"own a {dict(Holding.Category.choices)[data['holding_category']].lower()}")
        if data.get("currency"):
            labels.append(f"hold {data['currency']}")
        if data.get("matures_from") or data.get("matures_to"):
            first, last = data.get("matures_from"), data.get("matures_to")
            labels.append(
                "have a holding maturing"
                + (f" from {first:%d %b %Y}" if first else "")
                + (f" to {last:%d %b %Y}" if last else "")
            )
        if data.get("contact_overdue"):
            labels.append("are overdue for contact")
        if data.get("manager") is not None:
            labels.append("are in one manager's book" if data["manager"] else "have no relationship manager")
        return labels

    def filter_params(self) -> dict[str, Any]:
        """The cleaned filters as query parameters (for links to the export, page 1, ...)."""
        data = self.cleaned_data
        params: dict[str, Any] = {}
        for name in ("q", "segment", "sort"):
            if data.get(name):
                params[name] = data[name]
        if data.get("branch"):
            params["branch"] = data["branch"].pk
        for name in ("kyc_due", "maturing", "contact_overdue"):
            if data.get(name):
                params[name] = "on"
        for name in ("holding_category", "currency"):
            if data.get(name):
                params[name] = data[name]
        for name in ("matures_from", "matures_to"):
            if data.get(name):
                params[name] = data[name].isoformat()
        if data.get("manager") is not None:
            params["manager"] = data["manager"]
        return params


# Only the branch field is changed by a form (its queryset, its options: __init__, branch_options).
CustomerSearchForm.base_fields = SharedFields(CustomerSearchForm.base_fields, copied=frozenset({"branch"}))


class CustomerExportForm(CustomerSearchForm):
    include_pii = forms.BooleanField(
        label=_("Include personal data (recorded in the audit trail)"),
        required=False,
    )
    reason = forms.CharField(label=_("Reason for including personal data"), required=False, max_length=200)
    # The rows ticked on the list (bulk export); still filtered by what the user may see.
    customer = forms.TypedMultipleChoiceField(required=False, coerce=int, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ticked = self.data.getlist("customer") if hasattr(self.data, "getlist") else self.data.get("customer") or []
        # Any whole number is a choice: visibility, not the form, decides which rows are exported.
        self.fields["customer"].choices = [(v, v) for v in ticked if str(v).isdigit()][:200]  # type: ignore[attr-defined]

    def to_query(self) -> CustomerQuery:
        query = super().to_query()
        ids = tuple(sorted(set(self.cleaned_data.get("customer") or ())))
        return replace(query, customer_ids=ids) if ids else query


class RevealPiiForm(forms.Form):
    field = forms.ChoiceField(choices=[("all", "All personal data"), *((f, PII_LABELS[f]) for f in PII_FIELDS)])
    # Required by the service (clean_reveal_reason), not here: one rule for every path.
    reason = forms.CharField(
        label=_("Reason for revealing"),
        required=False,
        max_length=200,
        help_text=_("Kept in the audit trail with your name, e.g. “KYC review call”."),
    )

    def fields_to_reveal(self) -> list[str]:
        chosen = self.cleaned_data["field"]
        return list(PII_FIELDS) if chosen == "all" else [chosen]
