import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.services import open_holding
from apps.recommendations.selectors import customer_eligibility
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory
from tests.products.factories import ProductFactory, ProductRateFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def today(settings):
    settings.FINPULSE_BUSINESS_DATE = "2026-06-15"
    return dt.date(2026, 6, 15)


def test_product_detail_shows_the_rate_valid_today_and_the_history(client, manager, today):
    product = ProductFactory(name="Fixed saver")
    ProductRateFactory(product=product, effective_from=dt.date(2026, 1, 1), rate=Decimal("3.1000"))
    ProductRateFactory(product=product, effective_from=dt.date(2026, 5, 1), rate=Decimal("3.4500"))
    ProductRateFactory(product=product, effective_from=dt.date(2026, 9, 1), rate=Decimal("3.9900"))
    client.force_login(manager)

    response = client.get(reverse("products:detail", args=[product.pk]))

    detail = response.context["detail"]
    assert [r.rate for r in detail.current_rates] == [Decimal("3.4500")]
    assert [(row.rate.rate, row.status) for row in detail.history] == [
        (Decimal("3.9900"), "scheduled"),
        (Decimal("3.4500"), "current"),
        (Decimal("3.1000"), "superseded"),
    ]
    body = response.content.decode()
    assert "3.45%" in body
    assert "3.10%" in body
    assert "Superseded" in body


def test_current_rates_keep_each_slab_at_its_latest_change(manager, today):
    product = ProductFactory()
    ProductRateFactory(product=product, effective_from=dt.date(2026, 1, 1), min_amount=0, rate=Decimal("2.0"))
    ProductRateFactory(product=product, effective_from=dt.date(2026, 1, 1), min_amount=10000, rate=Decimal("2.5"))
    ProductRateFactory(product=product, effective_from=dt.date(2026, 4, 1), min_amount=10000, rate=Decimal("2.8"))
    from apps.products.selectors import product_detail

    detail = product_detail(product_id=product.pk)

    assert [(r.min_amount, r.rate) for r in detail.current_rates] == [
        (Decimal("0.00"), Decimal("2.0000")),
        (Decimal("10000.00"), Decimal("2.8000")),
    ]


def test_the_catalog_filters_by_category_status_and_segment(client, manager):
    ProductFactory(name="Open saver", category="deposit")
    ProductFactory(name="Premium card", category="card", eligible_segments=["premium"])
    ProductFactory(name="Old loan", category="loan", is_active=False)
    client.force_login(manager)

    def names(**params):
        return [p.name for p, _ in client.get(reverse("products:list"), params).context["rows"]]

    assert names() == ["Premium card", "Open saver"]
    assert names(category="card") == ["Premium card"]
    assert names(active="no") == ["Old loan"]
    assert names(segment="mass") == ["Open saver"]
    assert names(segment="premium", active="all") == ["Premium card", "Open saver", "Old loan"]


def test_another_manager_gets_404_on_a_customers_eligibility(client, manager, other_manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(other_manager)

    assert client.get(reverse("recommendations:customer_eligibility", args=[customer.pk])).status_code == 404


def test_the_eligibility_fragment_lists_eligible_products_and_reasons_for_the_others(client, manager, today):
    customer = CustomerFactory(
        assigned_to=manager, date_of_birth=dt.date(1990, 1, 1), annual_income=Decimal("40000"), segment="mass"
    )
    ProductFactory(name="Everyday saver")
    ProductFactory(name="Premier account", eligible_segments=["premium"])
    ProductFactory(name="Young saver", max_age=25)
    ProductFactory(name="Business loan", for_individuals=False, for_businesses=True)
    client.force_login(manager)

    response = client.get(reverse("recommendations:customer_eligibility", args=[customer.pk]), **HTMX)

    body = response.content.decode()
    eligibility = response.context["eligibility"]
    assert [i.product.name for i in eligibility.eligible] == ["Everyday saver"]
    assert "Segment Mass is not eligible (only Premium)." in body
    assert "Age 36 is outside the limit" in body
    assert "Only for business customers." in body
    assert "<html" not in body


def test_a_held_product_and_a_branch_without_the_product_are_reasons(manager, today):
    customer = CustomerFactory(assigned_to=manager)
    held = ProductFactory(name="Held saver")
    elsewhere = ProductFactory(name="City branch only")
    elsewhere.branches.add(BranchFactory())
    open_holding(
        actor=None,
        external_id="H-1",
        product=held,
        category="savings_account",
        parties={customer: "owner"},
        currency="GBP",
        opened_on=dt.date(2025, 1, 1),
    )

    verdicts = {
        i.product.name: i.result.failed
        for i in customer_eligibility(user=manager, customer_id=customer.pk).not_eligible
    }

    assert verdicts == {
        "Held saver": ["Already holds this product."],
        "City branch only": ["Not offered at the customer's branch."],
    }


@pytest.mark.parametrize("products", [3, 30])
def test_eligibility_queries_stay_flat(client, manager, products, django_assert_max_num_queries, cache_queries):
    customer = CustomerFactory(assigned_to=manager)
    branch = BranchFactory()
    for n in range(products):
        product = ProductFactory(min_age=18 if n % 2 else None)
        if n % 3 == 0:
            product.branches.add(branch)
    client.force_login(manager)

    with django_assert_max_num_queries(12 + cache_queries):
        response = client.get(reverse("recommendations:customer_eligibility", args=[customer.pk]), **HTMX)
    eligibility = response.context["eligibility"]
    assert len(eligibility.eligible) + len(eligibility.not_eligible) == products


@pytest.mark.parametrize("products", [3, 30])
def test_catalog_queries_stay_flat(client, manager, products, django_assert_max_num_queries, cache_queries):
    for _ in range(products):
        ProductRateFactory(product=ProductFactory())
    client.force_login(manager)

    with django_assert_max_num_queries(10 + cache_queries):
        response = client.get(reverse("products:list"))
    assert len(response.context["rows"]) == products


def test_the_customer_eligibility_page_renders_without_htmx(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    ProductFactory()
    client.force_login(manager)

    response = client.get(reverse("recommendations:customer_eligibility", args=[customer.pk]))

    assert response.status_code == 200
    assert "<html" in response.content.decode()
