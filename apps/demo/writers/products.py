"""The demo product catalog: each product written with its rate history and fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from apps.demo.catalog import PRODUCTS, PRODUCTS_BY_CODE
from apps.demo.report import SeedReport
from apps.identity.models import Branch
from apps.products.models import Product
from apps.products.services import add_product_fee, add_product_rate, create_product


def ensure_catalog(today: dt.date, branches: dict[str, Branch], report: SeedReport) -> dict[str, Product]:
    products = {p.code: p for p in Product.objects.filter(code__in=list(PRODUCTS_BY_CODE))}
    for spec in PRODUCTS:
        if spec.code in products:
            continue
        # A product and its rate history are written together, so a product never exists without rates.
        with transaction.atomic():
            product = create_product(
                actor=None,
                code=spec.code,
                name=spec.name,
                category=spec.category,
                description=spec.description,
                branches=[branches[code] for code in spec.branch_codes],
                **spec.fields,
            )
            for rate in spec.rates:
                add_product_rate(
                    actor=None,
                    product=product,
                    effective_from=today - dt.timedelta(days=rate.days_ago),
                    rate=Decimal(rate.rate),
                    min_amount=Decimal(rate.min_amount),
                    max_amount=Decimal(rate.max_amount) if rate.max_amount else None,
                    min_term_months=rate.min_term,
                    max_term_months=rate.max_term,
                )
                report.created["product rates"] += 1
            for fee in spec.fees:
                add_product_fee(
                    actor=None,
                    product=product,
                    name=fee.name,
                    amount=Decimal(fee.amount),
                    percentage=Decimal(fee.percentage) if fee.percentage else None,
                    frequency=fee.frequency,
                )
        products[spec.code] = product
        report.created["products"] += 1
    return products
