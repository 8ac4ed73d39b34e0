from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet

from apps.products.models import Product, ProductRate


def active_products() -> QuerySet[Product]:
    """The catalog is not customer data: every signed-in employee may read it."""
    return Product.objects.filter(is_active=True)


def rate_on(
    *, product: Product, on: dt.date, amount: Decimal | None = None, term_months: int | None = None
) -> ProductRate | None:
    """The rate slab valid for this product on a date (e.g. a deposit's maturity date)."""
    rates = ProductRate.objects.filter(product=product, effective_from__lte=on)
    if amount is not None:
        rates = rates.filter(min_amount__lte=amount).filter(Q(max_amount__isnull=True) | Q(max_amount__gt=amount))
    if term_months is not None:
        rates = rates.filter(min_term_months__lte=term_months).filter(
            Q(max_term_months__isnull=True) | Q(max_term_months__gte=term_months)
        )
    return rates.order_by("-effective_from", "-min_amount", "-min_term_months").first()
