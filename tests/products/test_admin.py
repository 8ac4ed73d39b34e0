"""Product admin: catalog writes through services; rates are append-only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change
from apps.core.business_date import business_today
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.products.models import Product, ProductRate
from tests.admin_support import admin_is_closed_to, admin_ready, management_data  # noqa: F401
from tests.identity.factories import UserFactory
from tests.products.factories import ProductFactory, ProductRateFactory


def change_url(product: Product) -> str:
    return reverse("admin:products_product_change", args=[product.pk])


def product_data(product: Product, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": product.name,
        "description": product.description,
        "currency": product.currency,
        "eligible_segments": "",
        "for_individuals": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_new_rate_is_proposed_below_the_read_only_history_and_applies_on_approval(client, administrator):
    product = ProductFactory()
    old = ProductRateFactory(product=product, rate=Decimal("3.2500"))
    client.force_login(administrator)
    form = client.get(change_url(product))
    prefixes = [inline.formset.prefix for inline in form.context["inline_admin_formsets"]]
    new_rates = next(p for p in prefixes if p.startswith("rates") and p != prefixes[0])
    starts = business_today() + dt.timedelta(days=7)
    data = {
        **product_data(product),
        **management_data(form),
        f"{new_rates}-0-effective_from": starts.isoformat(),
        f"{new_rates}-0-min_amount": "0",
        f"{new_rates}-0-min_term_months": "0",
        f"{new_rates}-0-rate": "3.7500",
        # An edit smuggled into the history rows is ignored: they are read-only.
        f"{prefixes[0]}-0-rate": "9.9900",
    }

    response = client.post(change_url(product), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    old.refresh_from_db()
    assert old.rate == Decimal("3.2500")
    # Four eyes: nothing changes until a second administrator approves.
    assert not ProductRate.objects.filter(product=product, effective_from=starts).exists()
    change = ChangeRequest.objects.get(action="product.rate_change", maker=administrator)
    approve_change(checker=UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True), change=change)
    new = ProductRate.objects.get(product=product, effective_from=starts)
    assert new.rate == Decimal("3.7500")
    assert AuditEvent.objects.filter(action="product_rate.added", object_id=str(new.pk)).count() == 1


def test_the_rate_admin_proposes_and_shows_the_request(client, administrator):
    product = ProductFactory()
    client.force_login(administrator)
    starts = business_today() + dt.timedelta(days=2)

    response = client.post(
        reverse("admin:products_productrate_add"),
        {
            "product": product.pk,
            "effective_from": starts.isoformat(),
            "min_amount": "0",
            "min_term_months": "0",
            "rate": "2.5",
        },
    )

    change = ChangeRequest.objects.get(action="product.rate_change")
    assert response.status_code == 302 and response["Location"] == reverse("approvals:detail", args=[change.pk])
    assert not ProductRate.objects.filter(product=product).exists()


def test_a_back_dated_rate_is_refused_on_the_form(client, administrator):
    product = ProductFactory()
    client.force_login(administrator)
    form = client.get(change_url(product))
    new_rates = form.context["inline_admin_formsets"][1].formset.prefix
    data = {
        **product_data(product),
        **management_data(form),
        f"{new_rates}-0-effective_from": "2001-01-01",
        f"{new_rates}-0-min_amount": "0",
        f"{new_rates}-0-min_term_months": "0",
        f"{new_rates}-0-rate": "3.7500",
    }

    response = client.post(change_url(product), data)

    assert response.status_code == 200
    assert "A new rate cannot take effect before today." in response.text
    assert not ProductRate.objects.filter(product=product).exists()


def test_an_existing_rate_cannot_be_changed(client, administrator):
    rate = ProductRateFactory()
    client.force_login(administrator)
    url = reverse("admin:products_productrate_change", args=[rate.pk])

    assert 'name="_save"' not in client.get(url).text
    assert client.post(url, {"rate": "1.0000"}).status_code == 403
    rate.refresh_from_db()
    assert rate.rate == Decimal("3.2500")


def test_changing_a_product_goes_through_the_service(client, administrator):
    product = ProductFactory(name="Easy Saver")
    client.force_login(administrator)
    form = client.get(change_url(product))

    response = client.post(
        change_url(product), {**product_data(product, name="Easy Saver Plus"), **management_data(form)}
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Easy Saver Plus"
    event = AuditEvent.objects.get(action="product.updated", object_id=str(product.pk))
    assert event.changes == {"name": ["Easy Saver", "Easy Saver Plus"]}


def test_managers_read_the_catalog_on_the_products_page_not_in_the_admin(client, manager):
    product = ProductFactory()

    assert admin_is_closed_to(client, manager, reverse("admin:products_product_changelist"))
    assert admin_is_closed_to(client, manager, change_url(product))
    client.post(change_url(product), product_data(product, name="x"))
    product.refresh_from_db()
    assert product.name != "x"
