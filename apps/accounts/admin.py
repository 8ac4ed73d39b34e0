"""Holdings admin: rows from the holdings selector, numbers masked, writes through services.

A holding is opened with its parties (the inline) in one call of `open_holding`; afterwards
its terms change through `update_holding`, and who holds it is shown read-only. Holdings
are closed or matured, never deleted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import Holding, HoldingParty
from apps.accounts.selectors import visible_holdings
from apps.accounts.services import HOLDING_FIELDS, open_holding, update_holding
from apps.core.admin import ServiceAdmin, adopt, without_ciphertext
from apps.core.errors import DomainError
from apps.customers.models import Customer
from apps.customers.visibility import may_edit_customers, visible_customers


class HoldingPartyInline(admin.TabularInline):
    """Parties are given when the holding is opened; afterwards they are shown read-only."""

    model = HoldingParty
    fields = ("customer", "role")
    autocomplete_fields = ("customer",)
    can_delete = False

    def get_extra(self, request: HttpRequest, obj: Holding | None = None, **kwargs: Any) -> int:
        return 1 if obj is None else 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[HoldingParty]:
        # Only parties the user may see: a joint holder who is another manager's customer stays hidden.
        parties = super().get_queryset(request).select_related("customer")
        visible = visible_customers(user=request.user).values("pk")
        return without_ciphertext(parties.filter(customer__in=visible), "customer")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Customer:
            kwargs["queryset"] = without_ciphertext(visible_customers(user=request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Holding | None = None) -> bool:
        return obj is None and may_edit_customers(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Holding | None = None) -> bool:
        return obj is None and may_edit_customers(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Holding | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Holding | None = None) -> bool:
        return request.user.has_perm("accounts.view_holdingparty") or self.has_add_permission(request, obj)


@admin.register(Holding)
class HoldingAdmin(ServiceAdmin):
    list_display = (
        "external_id",
        "category",
        "product",
        "number_hint",
        "currency",
        "balance",
        "maturity_date",
        "status",
    )
    list_select_related = ("product",)
    list_filter = ("category", "status", "currency", "maturity_date", "maturity_instruction")
    search_fields = ("^external_id", "product__code", "product__name")
    autocomplete_fields = ("product",)
    show_full_result_count = False
    inlines = [HoldingPartyInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Holding]:
        return without_ciphertext(visible_holdings(user=request.user).select_related("product"))

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The customer admin links here for one customer's holdings (?parties__customer__id__exact=).
        if lookup == "parties__customer__id__exact":
            return True
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and may_edit_customers(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_edit_customers(request.user)

    def get_fields(self, request: HttpRequest, obj: Holding | None = None) -> Any:
        terms = ("currency", "balance", "credit_limit", "rate", "maturity_date", "maturity_instruction", "status")
        if obj is None:
            return ("external_id", "product", "category", "number", "opened_on", *terms)
        return ("external_id", "product", "category", "number_hint", "opened_on", *terms, "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Holding | None = None) -> Any:
        if obj is None:
            return ()
        # The identity of a holding (core id, product, number) comes from the core banking system.
        return ("external_id", "product", "category", "number_hint", "opened_on", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Holding, form: Any, change: bool) -> None:
        if not change:
            return  # opened in save_related, once the parties from the inline are known
        changes = {name: form.cleaned_data[name] for name in HOLDING_FIELDS if name in form.changed_data}
        if changes:
            adopt(obj, update_holding(actor=request.user, holding=obj, **changes))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            return super().save_related(request, form, formsets, change)
        parties: dict[Customer, str] = {}
        for formset in formsets:
            for party_form in formset.forms:
                data = getattr(party_form, "cleaned_data", None) or {}
                if data.get("customer") is not None and not data.get("DELETE"):
                    if data["customer"] in parties:
                        raise DomainError("Each customer can hold this holding in one role only.")
                    parties[data["customer"]] = data.get("role") or HoldingParty.Role.OWNER
        data = form.cleaned_data
        details = {name: data[name] for name in HOLDING_FIELDS if name in data and name not in ("currency", "balance")}
        holding = open_holding(
            actor=request.user,
            external_id=data["external_id"],
            product=data["product"],
            category=data["category"],
            parties=parties,
            currency=data["currency"],
            opened_on=data["opened_on"],
            number=data.get("number") or "",
            balance=data["balance"] if data.get("balance") is not None else Decimal("0"),
            **details,
        )
        adopt(form.instance, holding)
        return None
