"""Rates and limits on the catalog pages, and a product's minimum agreeing with its first slab."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.errors import DomainError
from apps.demo.catalog import PRODUCTS
from apps.products.models import ProductRate
from apps.products.services import add_product_rate, create_product
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory

D = Decimal
DAY = dt.date(2026, 1, 1)


@pytest.fixture
def today(settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_BUSINESS_DATE = "2026-06-15"
    return dt.date(2026, 6, 15)


@pytest.fixture
def loan(db):  # type: ignore[no-untyped-def]
    product = create_product(
        actor=None, code="LN-TEST", name="Test loan", category="loan", min_amount=D("1000"), max_amount=D("50000")
    )
    for low, high, rate in [("1000", "10000", "9.9000"), ("10000", "25000", "7.2000"), ("25000", None, "6.5000")]:
        add_product_rate(
            actor=None,
            product=product,
            effective_from=DAY,
            rate=D(rate),
            min_amount=D(low),
            max_amount=high and D(high),
        )
    return product


def test_the_catalog_shows_a_loans_rates_lowest_to_highest_and_open_ended_limits_in_words(client, manager, today, loan):
    create_product(actor=None, code="SAV-BIG", name="Big saver", category="deposit", min_amount=D("10000"))
    client.force_login(manager)

    body = client.get(reverse("products:list")).content.decode()

    assert "6.50% – 9.90%" in body
    assert "9.90% – 6.50%" not in body
    assert "10,000 GBP and above" in body
    assert "1,000 to 50,000 GBP" in body
    assert "–  GBP" not in body and "– GBP" not in body


def test_the_product_page_shows_slabs_as_a_banker_writes_them(client, manager, today, loan):
    client.force_login(manager)

    body = client.get(reverse("products:detail", args=[loan.pk])).content.decode()

    assert "1,000 to under 10,000 GBP" in body
    assert "25,000 GBP and above" in body
    assert "9.90%" in body and "9.9000%" not in body


def test_the_360_page_shows_a_holdings_rate_with_two_decimals(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    HoldingFactory(customer=customer, rate=D("4.1250"))
    HoldingFactory(customer=customer, rate=D("4.1000"))
    client.force_login(manager)

    body = client.get(customer.get_absolute_url()).content.decode()

    assert "4.125%" in body and "4.10%" in body and "4.1000" not in body


def test_a_slab_cannot_start_below_the_products_minimum(loan):
    with pytest.raises(DomainError, match="1,000 GBP and above") as error:
        add_product_rate(actor=None, product=loan, effective_from=dt.date(2026, 2, 1), rate=D("9"), min_amount=D("0"))

    assert error.value.field == "min_amount"


def test_the_lowest_slab_of_a_date_must_start_at_the_products_minimum(loan):
    later = dt.date(2026, 2, 1)

    with pytest.raises(DomainError, match="must start at the product's minimum amount"):
        add_product_rate(actor=None, product=loan, effective_from=later, rate=D("8"), min_amount=D("10000"))
    add_product_rate(
        actor=None, product=loan, effective_from=later, rate=D("9"), min_amount=D("1000"), max_amount=D("10000")
    )
    add_product_rate(actor=None, product=loan, effective_from=later, rate=D("8"), min_amount=D("10000"))

    assert ProductRate.objects.filter(product=loan, effective_from=later).count() == 2


def test_the_demo_catalogs_slabs_start_at_each_products_minimum():
    for spec in PRODUCTS:
        minimum = spec.fields.get("min_amount") or D("0")
        for day in {rate.days_ago for rate in spec.rates}:
            lowest = min(D(rate.min_amount) for rate in spec.rates if rate.days_ago == day)
            assert lowest == minimum, (spec.code, day)


def test_raising_a_products_minimum_above_its_slabs_is_refused(loan, today):
    from apps.products.services import update_product

    with pytest.raises(DomainError, match="lowest slab must start at the product's minimum") as error:
        update_product(actor=None, product=loan, min_amount=D("5000"))

    assert error.value.field == "min_amount"
    loan.refresh_from_db()
    assert loan.min_amount == D("1000")


def test_lowering_a_products_minimum_below_its_slabs_is_refused(loan, today):
    from apps.products.services import update_product

    with pytest.raises(DomainError, match="lowest slab must start at the product's minimum"):
        update_product(actor=None, product=loan, min_amount=D("500"))


def test_a_minimum_that_matches_the_slabs_in_force_and_later_is_accepted(loan, today):
    from apps.products.services import update_product

    later = dt.date(2026, 7, 1)
    add_product_rate(actor=None, product=loan, effective_from=later, rate=D("9"), min_amount=D("1000"))

    update_product(actor=None, product=loan, min_amount=D("1000"), max_amount=D("60000"))

    loan.refresh_from_db()
    assert loan.max_amount == D("60000")


def test_a_future_dated_slab_set_holds_the_minimum_too(loan, today):
    from apps.products.services import update_product

    # Today's slabs start at 1,000; a later set starting at 1,000 also exists. Moving the
    # minimum to 2,000 breaks both, and the message names the first date that disagrees.
    add_product_rate(actor=None, product=loan, effective_from=dt.date(2026, 7, 1), rate=D("9"), min_amount=D("1000"))

    with pytest.raises(DomainError, match="slabs from 1 Jan 2026 start at 1,000"):
        update_product(actor=None, product=loan, min_amount=D("2000"))
