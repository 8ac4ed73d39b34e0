from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.core.business_date import business_today
from apps.core.errors import NotFound
from apps.core.windows import RATE_PRECEDENCE, rate_slab_on
from apps.products.models import Product, ProductRate


def active_products() -> QuerySet[Product]:
    """The catalog is not customer data: every signed-in employee may read it."""
    return Product.objects.filter(is_active=True)


def rate_on(
    *, product: Product, on: dt.date, amount: Decimal | None = None, term_months: int | None = None
) -> ProductRate | None:
    """The rate slab valid for this product on a date (e.g. a deposit's maturity date): the rule
    is apps.core.windows.rate_slab_on, which the maturity scan runs in SQL too."""
    rates = ProductRate.objects.filter(rate_slab_on(on=on, amount=amount, term_months=term_months), product=product)
    return rates.order_by(*RATE_PRECEDENCE).first()


def current_slabs(rates: list[ProductRate], *, on: dt.date) -> list[ProductRate]:
    """The slabs valid on a date: for each slab (lowest amount, shortest term), the newest row
    effective on or before that date. A rate change is a new dated row, so older rows of the
    same slab are history, not current."""
    latest: dict[tuple[Decimal, int], ProductRate] = {}
    for rate in rates:
        if rate.effective_from > on:
            continue
        key = (rate.min_amount, rate.min_term_months)
        if key not in latest or rate.effective_from > latest[key].effective_from:
            latest[key] = rate
    return sorted(latest.values(), key=lambda r: (r.min_amount, r.min_term_months))


@dataclass(frozen=True)
class RateHistoryRow:
    rate: ProductRate
    status: str  # "current", "scheduled" (not yet effective) or "superseded"


def rate_history(rates: list[ProductRate], *, on: dt.date) -> list[RateHistoryRow]:
    current = {rate.pk for rate in current_slabs(rates, on=on)}
    rows = []
    for rate in sorted(rates, key=lambda r: (r.effective_from, r.min_amount, r.min_term_months), reverse=True):
        if rate.pk in current:
            status = "current"
        elif rate.effective_from > on:
            status = "scheduled"
        else:
            status = "superseded"
        rows.append(RateHistoryRow(rate=rate, status=status))
    return rows


def product_catalog(*, category: str = "", active: bool | None = True, segment: str = "") -> QuerySet[Product]:
    """Products filtered as the catalog page asks; a segment filter keeps products open to it
    (no segment restriction, or the segment listed). Rates come prefetched, newest first."""
    products = Product.objects.all()
    if active is not None:
        products = products.filter(is_active=active)
    if category:
        products = products.filter(category=category)
    if segment:
        products = products.filter(Q(eligible_segments=[]) | Q(eligible_segments__contains=[segment]))
    return products.prefetch_related(
        Prefetch("rates", queryset=ProductRate.objects.order_by("-effective_from", "min_amount", "min_term_months"))
    ).order_by("category", "name", "id")


@dataclass
class ProductDetail:
    product: Product
    today: dt.date
    current_rates: list[ProductRate]
    history: list[RateHistoryRow]

    @property
    def current_rows(self) -> list[RateHistoryRow]:
        return [RateHistoryRow(rate=rate, status="current") for rate in self.current_rates]


def product_detail(*, product_id: Any, today: dt.date | None = None) -> ProductDetail:
    """One product with its rate table as of the business date, its history, fees and branches."""
    today = today or business_today()
    try:
        product = Product.objects.prefetch_related("rates", "fees", "branches").get(pk=int(product_id))
    except (Product.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such product.") from None
    rates = list(product.rates.all())
    return ProductDetail(
        product=product,
        today=today,
        current_rates=current_slabs(rates, on=today),
        history=rate_history(rates, on=today),
    )
