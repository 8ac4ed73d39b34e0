"""Refresh replaces the advice and says so (or says why not); a rate change invalidates only
the advice it affects, and the product page lists those customers (issue 20, items 3 and 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.models import Holding
from apps.core.models import AuditEvent
from apps.customers.services import update_customer
from apps.products.services import add_product_rate
from apps.recommendations.models import Recommendation
from apps.recommendations.services import recommend_for_customer
from apps.recommendations.tasks import refresh_recommendation
from tests.accounts.factories import HoldingFactory
from tests.recommendations.factories import advisable_customer, small_catalog

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def catalog(db):  # type: ignore[no-untyped-def]
    return small_catalog()


def _panel(client, customer) -> str:  # type: ignore[no-untyped-def]
    return client.get(reverse("recommendations:panel", args=[customer.pk]), **HTMX).content.decode()


def test_a_completed_refresh_replaces_the_advice_and_says_so(
    client, manager, catalog, eager_tasks, django_capture_on_commit_callbacks
):
    customer = advisable_customer(manager)
    client.force_login(manager)
    first = _panel(client, customer)
    old = Recommendation.objects.get(customer=customer)
    HoldingFactory(customer=customer, category=Holding.Category.SAVINGS_ACCOUNT, product=catalog["EASY"])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("recommendations:refresh", args=[customer.pk]), **HTMX)
    after = _panel(client, customer)

    new = Recommendation.objects.filter(customer=customer).latest("id")
    assert new.pk != old.pk
    assert "Easy product" in first and "Easy product" not in after  # now held: the new advice shows
    assert "Advice refreshed at" in after and "it replaces the earlier advice" in after
    assert "Stale" not in after


def test_a_failed_refresh_says_why_and_keeps_the_old_advice_marked_stale(
    client, manager, catalog, django_capture_on_commit_callbacks
):
    customer = advisable_customer(manager)
    client.force_login(manager)
    _panel(client, customer)
    with django_capture_on_commit_callbacks(execute=False):  # queued; the worker has not run yet
        client.post(reverse("recommendations:refresh", args=[customer.pk]), **HTMX)
    # Before the worker runs, KYC lapses (and is renewed again just after).
    update_customer(actor=None, customer=customer, kyc_status="expired")

    outcome = refresh_recommendation(customer.pk, manager.pk)  # what the worker runs
    update_customer(actor=None, customer=customer, kyc_status="verified")
    html = _panel(client, customer)

    assert outcome == "not-allowed"
    assert Recommendation.objects.filter(customer=customer).count() == 1  # the old advice is kept
    assert "Refresh failed" in html and "KYC is expired" in html
    assert "Stale" in html and "may be out of date" in html


def test_a_refresh_whose_worker_never_answers_is_reported_as_failed(client, manager, catalog, settings):
    from django.core.cache import cache

    from apps.recommendations.services import pending_key

    customer = advisable_customer(manager)
    client.force_login(manager)
    _panel(client, customer)
    client.post(reverse("recommendations:refresh", args=[customer.pk]), **HTMX)
    cache.delete(pending_key(customer.pk))  # the pending mark expired: nobody finished the task

    html = _panel(client, customer)

    assert "Refresh failed" in html and "did not finish in time" in html and "Stale" in html


def _maturing_holder(manager, catalog, *, matures: dt.date):  # type: ignore[no-untyped-def]
    customer = advisable_customer(manager)
    HoldingFactory(
        customer=customer,
        category=Holding.Category.TERM_DEPOSIT,
        product=catalog["TD12"],
        balance=Decimal("30000.00"),
        opened_on=matures - dt.timedelta(days=365),
        maturity_date=matures,
    )
    return customer


def test_a_rate_change_invalidates_only_the_advice_it_affects(
    manager, catalog, eager_tasks, django_capture_on_commit_callbacks
):
    holder = _maturing_holder(manager, catalog, matures=dt.date(2026, 3, 20))
    advised = advisable_customer(manager)
    bystander = advisable_customer(manager, segment="private")
    rows = {c.pk: recommend_for_customer(actor=manager, customer=c) for c in (holder, advised, bystander)}
    assert "TD12" in rows[advised.pk].product_codes and "PRIV" not in rows[holder.pk].product_codes

    with django_capture_on_commit_callbacks(execute=True):
        add_product_rate(actor=None, product=catalog["PRIV"], effective_from=dt.date(2026, 3, 10), rate=Decimal("5.2"))
    after_priv = {pk: Recommendation.objects.get(pk=row.pk).invalidated_at for pk, row in rows.items()}
    with django_capture_on_commit_callbacks(execute=True):
        add_product_rate(actor=None, product=catalog["TD12"], effective_from=dt.date(2026, 3, 10), rate=Decimal("4.4"))

    for row in rows.values():
        row.refresh_from_db()
    assert after_priv[bystander.pk] is not None and after_priv[holder.pk] is None  # PRIV named only for private
    assert rows[holder.pk].invalidated_at is not None  # matures into the new TD12 rate
    assert rows[advised.pk].invalidated_at is not None  # its advice names TD12
    fresh = recommend_for_customer(actor=manager, customer=holder)
    assert fresh.pk != rows[holder.pk].pk
    assert any("renewal at 4.40%" in item["rationale"] for item in fresh.items)
    assert AuditEvent.objects.filter(action="recommendation.invalidated").count() == 2


def test_a_rate_change_leaves_advice_that_neither_names_the_product_nor_matures_into_it(
    manager, catalog, eager_tasks, django_capture_on_commit_callbacks
):
    customer = advisable_customer(manager)
    advice = recommend_for_customer(actor=manager, customer=customer)
    assert "JUNIOR" not in advice.product_codes

    with django_capture_on_commit_callbacks(execute=True):
        add_product_rate(
            actor=None, product=catalog["JUNIOR"], effective_from=dt.date(2026, 3, 10), rate=Decimal("3.3")
        )

    advice.refresh_from_db()
    assert advice.invalidated_at is None
    assert recommend_for_customer(actor=manager, customer=customer).pk == advice.pk


def test_the_product_page_lists_only_the_viewers_customers_a_rate_change_affects(
    client, manager, other_manager, catalog
):
    mine = _maturing_holder(manager, catalog, matures=dt.date(2026, 3, 20))
    theirs = _maturing_holder(other_manager, catalog, matures=dt.date(2026, 3, 21))
    advised = advisable_customer(manager)
    recommend_for_customer(actor=manager, customer=advised)
    client.force_login(manager)

    page = client.get(reverse("products:detail", args=[catalog["TD12"].pk])).content.decode()
    impact = client.get(reverse("recommendations:rate_impact", args=[catalog["TD12"].pk]), **HTMX).content.decode()

    assert reverse("recommendations:rate_impact", args=[catalog["TD12"].pk]) in page
    assert mine.display_name in impact and "20 Mar 2026" in impact
    assert advised.display_name in impact
    assert theirs.display_name not in impact
    assert "2 of your customers" in impact
