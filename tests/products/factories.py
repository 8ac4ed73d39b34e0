from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from apps.products.models import Product, ProductRate


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"PRD{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = Product.Category.DEPOSIT
    currency = "GBP"


class ProductRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductRate

    product = factory.SubFactory(ProductFactory)
    effective_from = dt.date(2026, 1, 1)
    rate = Decimal("3.2500")
