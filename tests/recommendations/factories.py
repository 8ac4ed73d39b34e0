"""Customers who may receive advice, and a small catalog, built through the real services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from apps.customers.models import Customer
from apps.customers.services import record_consent
from apps.products.models import Product
from apps.products.services import add_product_rate, create_product
from tests.customers.factories import CustomerFactory

RATE_DATE = dt.date(2026, 1, 1)


def advisable_customer(manager: Any = None, *, profiling: bool = True, **kwargs: Any) -> Customer:
    """An individual with an income, verified KYC and (by default) consent to profiling."""
    values = {
        "annual_income": Decimal("62000.00"),
        "kyc_status": "verified",
        "segment": "affluent",
        "risk_profile": 3,
        "customer_since": dt.date(2019, 4, 1),
        **kwargs,
    }
    customer = CustomerFactory(assigned_to=manager, **values)
    record_consent(actor=None, customer=customer, channel="email", purpose="profiling", granted=profiling)
    return customer


def product(code: str, category: str, rate: str | None = None, **rules: Any) -> Product:
    created = create_product(actor=None, code=code, name=f"{code.title()} product", category=category, **rules)
    if rate is not None:
        add_product_rate(actor=None, product=created, effective_from=RATE_DATE, rate=Decimal(rate))
    return created


def small_catalog() -> dict[str, Product]:
    """Five products: three open to the default customer, two closed to them by a rule."""
    return {
        "TD12": product("TD12", "deposit", "4.1000"),
        "EASY": product("EASY", "deposit", "2.5000"),
        "CARD": product("CARD", "card", "19.9000", min_age=18),
        "PRIV": product("PRIV", "investment", "5.0000", eligible_segments=["private"]),
        "JUNIOR": product("JUNIOR", "deposit", "3.0000", max_age=17),
    }


def advice_for(manager: Any) -> Any:
    """Stored advice (rule engine) for a new customer of `manager`, through the real service."""
    from apps.recommendations.services import recommend_for_customer

    customer = advisable_customer(manager)
    if not Product.objects.filter(code="MATRIX1").exists():
        product("MATRIX1", "deposit", "3.0000")
    return recommend_for_customer(actor=manager, customer=customer)
