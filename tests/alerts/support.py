"""Seed data for alert tests: holdings, documents and customers built through the real services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from apps.accounts.models import Holding
from apps.customers.services import add_identity_document
from apps.products.models import Product
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.products.factories import ProductFactory, ProductRateFactory

TODAY = dt.date(2026, 3, 2)


def deposit_product(**kwargs: Any) -> Product:
    product = ProductFactory(category=Product.Category.DEPOSIT, name="Fixed saver", **kwargs)
    ProductRateFactory(product=product, effective_from=dt.date(2025, 1, 1), rate=Decimal("3.2500"))
    # A rate change effective in three weeks: the 30-day alert must quote this one.
    ProductRateFactory(product=product, effective_from=TODAY + dt.timedelta(days=21), rate=Decimal("3.6000"))
    return product


def deposit(customer: Any, product: Product, days: int, **kwargs: Any) -> Holding:
    kwargs.setdefault("balance", Decimal("25000.00"))
    return HoldingFactory(
        customer=customer,
        product=product,
        category=Holding.Category.TERM_DEPOSIT,
        opened_on=TODAY - dt.timedelta(days=330),
        maturity_date=TODAY + dt.timedelta(days=days),
        **kwargs,
    )


def document(customer: Any, days: int) -> Any:
    return add_identity_document(
        actor=None,
        customer=customer,
        document_type="passport",
        number=f"P{customer.pk:07d}{days}",
        issuing_country="GB",
        expiry_date=TODAY + dt.timedelta(days=days),
    )


def customer(manager: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("customer_since", TODAY - dt.timedelta(days=20))
    kwargs.setdefault("branch", manager.branch)
    return CustomerFactory(assigned_to=manager, **kwargs)
