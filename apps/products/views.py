"""Product catalog pages and the customer eligibility fragment: thin, through selectors."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from apps.approvals.selectors import pending_changes
from apps.core.business_date import business_today
from apps.core.presentation import translated_choices
from apps.products.eligibility import describe_rules
from apps.products.four_eyes import PRODUCT_TARGET
from apps.products.models import Product, Segment
from apps.products.selectors import current_slabs, product_catalog, product_detail

PAGE_SIZE = 50
ACTIVE_CHOICES = (("yes", _("On offer")), ("no", _("Withdrawn")), ("all", _("All")))


class CatalogFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[("", _("All categories")), *translated_choices(Product.Category.choices)],
        required=False,
    )
    segment = forms.ChoiceField(
        label=_("Segment"), choices=[("", _("Any segment")), *translated_choices(Segment.choices)], required=False
    )
    active = forms.ChoiceField(choices=ACTIVE_CHOICES, required=False, initial="yes", label=_("Status"))


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    filters = CatalogFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    active = {"yes": True, "no": False, "all": None}[data.get("active") or "yes"]
    products = product_catalog(category=data.get("category", ""), active=active, segment=data.get("segment", ""))
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    today = business_today()
    rows = [(product, current_slabs(list(product.rates.all()), on=today)) for product in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "rows": rows, "today": today, "query": query.urlencode()}
    return render(request, "products/list.html", context)


@login_required
@require_GET
def product_detail_view(request: HttpRequest, product_id: int) -> HttpResponse:
    detail = product_detail(product_id=product_id)
    context = {
        "detail": detail,
        "product": detail.product,
        "rules": describe_rules(detail.product),
        # Four eyes: rate changes proposed but not yet approved are shown where they will apply.
        "pending": pending_changes(target_type=PRODUCT_TARGET, target_id=detail.product.pk),
    }
    return render(request, "products/detail.html", context)
