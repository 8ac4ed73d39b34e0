"""Advice in Django admin: listed with its engine and cost, acceptance and daily cost summed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.recommendations.services import recommend_for_customer, record_feedback
from tests.admin_support import admin_is_closed_to, admin_ready  # noqa: F401
from tests.recommendations.factories import advisable_customer, small_catalog

pytestmark = pytest.mark.usefixtures("role_permissions")


@pytest.fixture
def advice(manager, fake_openai):  # type: ignore[no-untyped-def]
    small_catalog()
    return recommend_for_customer(actor=manager, customer=advisable_customer(manager))


def test_administrators_see_advice_with_source_model_tokens_and_cost(client, administrator, advice):
    client.force_login(administrator)

    listing = client.get(reverse("admin:recommendations_recommendation_changelist")).content.decode()
    detail = client.get(reverse("admin:recommendations_recommendation_change", args=[advice.pk]))

    assert "fake-gpt" in listing and "reco-2026-12-v2" in listing
    assert str(advice.cost) in listing
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "customer_profile" in html  # the prompt, PII-free


def test_the_summary_shows_acceptance_per_product_and_the_daily_cost(client, administrator, manager, advice):
    first, second = advice.items[0], advice.items[1]
    record_feedback(actor=manager, recommendation=advice, product_id=first["product_id"], decision="accepted")
    record_feedback(
        actor=manager, recommendation=advice, product_id=second["product_id"], decision="dismissed", reason="No"
    )
    client.force_login(administrator)

    html = client.get(reverse("admin:recommendations_recommendation_summary")).content.decode()

    assert f"{first['product_code']} · " in html and "100.0%" in html and "0.0%" in html
    assert str(advice.cost) in html


def test_managers_read_advice_on_the_customer_page_not_in_the_admin(client, manager, advice):
    assert admin_is_closed_to(client, manager, reverse("admin:recommendations_recommendation_change", args=[advice.pk]))
