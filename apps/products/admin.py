"""Product catalog admin: every write through apps.products.services.

Rates are append-only: a rate change is a new dated row, never an overwrite, so existing
rate rows are shown read-only and new ones are added below them. Fees likewise. Products
are deactivated, never deleted (holdings keep pointing at them).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from apps.core.admin import ReadOnlyInline, ServiceAdmin, adopt
from apps.products.fields import FEE_FIELDS, PRODUCT_FIELDS, RATE_FIELDS
from apps.products.four_eyes import propose_rate_change
from apps.products.models import Product, ProductFee, ProductRate
from apps.products.services import add_product_fee, create_product, update_product

PROPOSED = "Rate change proposed: it applies when a second administrator approves it ({summary})."


class ProductRateHistoryInline(ReadOnlyInline):
    model = ProductRate
    verbose_name = "rate"
    verbose_name_plural = "rates in force and history (read-only: add a new dated row to change a rate)"
    fields = (*RATE_FIELDS, "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductRate]:
        return super().get_queryset(request).select_related("product")


class AddOnlyInline(admin.TabularInline):
    """Blank rows for new records only; existing ones are shown by a read-only inline."""

    extra = 1
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).none()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NewProductRateInline(AddOnlyInline):
    model = ProductRate
    verbose_name = "new rate"
    verbose_name_plural = "new rates"
    fields = RATE_FIELDS


class ProductFeeInline(ReadOnlyInline):
    model = ProductFee
    verbose_name_plural = "fees"
    fields = FEE_FIELDS
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductFee]:
        return super().get_queryset(request).select_related("product")


class NewProductFeeInline(AddOnlyInline):
    model = ProductFee
    verbose_name = "new fee"
    verbose_name_plural = "new fees"
    fields = FEE_FIELDS


def _add_rows(request: HttpRequest, product: Product, formsets: Any) -> None:
    for formset in formsets:
        for form in formset.forms:
            if not form.has_changed():
                continue
            data = form.cleaned_data
            if formset.model is ProductRate:
                # Four eyes (docs/compliance.md): the new slab waits for a second administrator.
                change = propose_rate_change(
                    actor=request.user, product=product, **{name: data[name] for name in RATE_FIELDS}
                )
                messages.info(request, PROPOSED.format(summary=change.summary))
            elif formset.model is ProductFee:
                add_product_fee(actor=request.user, product=product, **{name: data[name] for name in FEE_FIELDS})


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    list_display = ("code", "name", "category", "currency", "is_active", "updated_at")
    list_select_related = False
    list_filter = ("category", "is_active", "currency", "for_individuals", "for_businesses")
    search_fields = ("^code", "name")
    autocomplete_fields = ("branches",)
    inlines = [ProductRateHistoryInline, NewProductRateInline, ProductFeeInline, NewProductFeeInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> Any:
        # The code is how holdings, imports and the core banking system name the product.
        return ("updated_at",) if obj is None else ("code", "category", "updated_at")

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            product = create_product(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                category=data["category"],
                branches=data.get("branches") or (),
                **{name: data[name] for name in PRODUCT_FIELDS if name in data},
            )
        else:
            changes = {name: data[name] for name in ("name", *PRODUCT_FIELDS) if name in form.changed_data}
            branches = data.get("branches") if "branches" in form.changed_data else None
            product = update_product(actor=request.user, product=obj, branches=branches, **changes)
        adopt(obj, product)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        _add_rows(request, form.instance, formsets)


@admin.register(ProductRate)
class ProductRateAdmin(ServiceAdmin):
    list_display = ("product", *RATE_FIELDS, "created_at")
    list_select_related = ("product",)
    list_filter = ("product__category", "effective_from")
    search_fields = ("^product__code", "product__name")
    autocomplete_fields = ("product",)
    fields = ("product", *RATE_FIELDS, "created_at")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # append-only: a new dated row replaces a rate

    def save_model(self, request: HttpRequest, obj: ProductRate, form: Any, change: bool) -> None:
        # Four eyes: nothing is saved here; the slab is added when a second administrator approves.
        data = form.cleaned_data
        request.four_eyes_change = propose_rate_change(  # type: ignore[attr-defined]
            actor=request.user, product=data["product"], **{name: data[name] for name in RATE_FIELDS}
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None  # nothing was added yet: the proposal has its own audit event

    def response_add(
        self, request: HttpRequest, obj: ProductRate, post_url_continue: str | None = None
    ) -> HttpResponse:
        change = request.four_eyes_change  # type: ignore[attr-defined]
        messages.info(request, PROPOSED.format(summary=change.summary))
        return HttpResponseRedirect(reverse("approvals:detail", args=[change.pk]))


@admin.register(ProductFee)
class ProductFeeAdmin(ServiceAdmin):
    list_display = ("product", *FEE_FIELDS)
    list_select_related = ("product",)
    list_filter = ("frequency", "product__category")
    search_fields = ("^product__code", "product__name", "name")
    autocomplete_fields = ("product",)
    fields = ("product", *FEE_FIELDS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a fee change is a new fee row, so what was charged stays answerable

    def save_model(self, request: HttpRequest, obj: ProductFee, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fee = add_product_fee(actor=request.user, product=data["product"], **{name: data[name] for name in FEE_FIELDS})
        adopt(obj, fee)
