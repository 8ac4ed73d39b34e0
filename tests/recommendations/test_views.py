"""The advice panel on the customer page: show, refresh asynchronously, accept or dismiss."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.models import Holding
from apps.core.models import AuditEvent
from apps.recommendations.models import Recommendation, RecommendationFeedback
from apps.recommendations.services import recommend_for_customer
from tests.accounts.factories import HoldingFactory
from tests.interactions.factories import InteractionFactory
from tests.recommendations.factories import advisable_customer, small_catalog

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def catalog(db):  # type: ignore[no-untyped-def]
    return small_catalog()


def _panel_url(customer) -> str:  # type: ignore[no-untyped-def]
    return reverse("recommendations:panel", args=[customer.pk])


def test_the_customer_page_loads_the_panel_with_htmx(client, manager, catalog):
    customer = advisable_customer(manager)
    client.force_login(manager)

    html = client.get(customer.get_absolute_url()).content.decode()

    assert f'hx-get="{_panel_url(customer)}"' in html
    assert 'hx-trigger="load"' in html


def test_without_a_key_the_panel_shows_the_rule_engines_advice_at_once(client, manager, catalog):
    customer = advisable_customer(manager)
    client.force_login(manager)

    response = client.get(_panel_url(customer), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rule engine" in html and "No LLM is configured" in html
    assert "Td12 product" in html
    assert "every 2s" not in html  # nothing pending, no polling
    assert Recommendation.objects.filter(customer=customer).count() == 1


def test_without_javascript_the_panel_is_a_page(client, manager, catalog):
    customer = advisable_customer(manager)
    client.force_login(manager)

    response = client.get(_panel_url(customer))

    assert response.status_code == 200
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("name", ["panel", "refresh"])
def test_another_managers_customer_is_a_404(client, manager, other_manager, catalog, name):
    customer = advisable_customer(other_manager)
    client.force_login(manager)
    url = reverse(f"recommendations:{name}", args=[customer.pk])

    response = client.get(url) if name == "panel" else client.post(url)

    assert response.status_code == 404


def test_feedback_on_another_managers_advice_is_a_404(client, manager, other_manager, catalog):
    advice = recommend_for_customer(actor=other_manager, customer=advisable_customer(other_manager))
    client.force_login(manager)

    response = client.post(
        reverse("recommendations:feedback", args=[advice.customer_id, advice.pk]),
        {"product": advice.items[0]["product_id"], "decision": "accepted"},
    )

    assert response.status_code == 404
    assert not RecommendationFeedback.objects.exists()


def test_without_profiling_consent_no_advice_is_given(client, manager, catalog):
    customer = advisable_customer(manager, profiling=False)
    client.force_login(manager)

    html = client.get(_panel_url(customer), **HTMX).content.decode()

    assert "not consented to profiling" in html
    assert not Recommendation.objects.exists()


def test_an_expired_kyc_blocks_advice(client, manager, catalog):
    customer = advisable_customer(manager, kyc_status="expired")
    client.force_login(manager)

    html = client.get(_panel_url(customer), **HTMX).content.decode()

    assert "KYC is expired" in html
    assert not Recommendation.objects.exists()


def test_with_an_llm_the_page_queues_a_refresh_and_polls_until_it_is_done(
    client, manager, catalog, fake_openai, django_capture_on_commit_callbacks
):
    from finpulse.celery import app

    customer = advisable_customer(manager)
    client.force_login(manager)
    # The page view queues the refresh (published after commit) and polls meanwhile.
    with django_capture_on_commit_callbacks() as published:
        waiting = client.get(_panel_url(customer), **HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in waiting and "Preparing fresh advice" in waiting
    assert fake_openai.calls == 0
    assert len(published) == 1
    # A second view while it is pending queues nothing more.
    with django_capture_on_commit_callbacks() as again:
        client.get(_panel_url(customer), **HTMX)
    assert again == []

    app.conf.task_always_eager = True  # the worker picks it up
    try:
        published[0]()
    finally:
        app.conf.task_always_eager = False

    done = client.get(_panel_url(customer), **HTMX).content.decode()
    assert fake_openai.calls == 1
    assert "every 2s" not in done
    assert "LLM · fake-gpt" in done


def test_refresh_runs_the_task_and_forces_a_new_call(
    client, manager, catalog, fake_openai, django_capture_on_commit_callbacks
):
    from finpulse.celery import app

    customer = advisable_customer(manager)
    first = recommend_for_customer(actor=manager, customer=customer)
    client.force_login(manager)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("recommendations:refresh", args=[customer.pk]), **HTMX)
    finally:
        app.conf.task_always_eager = False

    assert response.status_code == 200
    assert fake_openai.calls == 2
    latest = Recommendation.objects.filter(customer=customer).order_by("-id").first()
    assert latest.pk != first.pk and latest.source == "llm"
    assert AuditEvent.objects.filter(action="recommendation.generated", object_id=str(latest.pk)).count() == 1


def test_a_manager_accepts_and_dismisses_with_a_reason_and_it_is_audited(client, manager, catalog):
    customer = advisable_customer(manager)
    advice = recommend_for_customer(actor=manager, customer=customer)
    url = reverse("recommendations:feedback", args=[customer.pk, advice.pk])
    first, second = advice.items[0], advice.items[1]
    client.force_login(manager)

    client.post(url, {"product": first["product_id"], "decision": "accepted", "reason": "Customer keen"}, **HTMX)
    html = client.post(
        url, {"product": second["product_id"], "decision": "dismissed", "reason": "Has one elsewhere"}, **HTMX
    ).content.decode()

    decisions = {f.product_id: (f.decision, f.reason, f.actor_id) for f in RecommendationFeedback.objects.all()}
    assert decisions == {
        first["product_id"]: ("accepted", "Customer keen", manager.pk),
        second["product_id"]: ("dismissed", "Has one elsewhere", manager.pk),
    }
    assert "Dismissed: Has one elsewhere" in html
    assert AuditEvent.objects.filter(action__in=["recommendation.accepted", "recommendation.dismissed"]).count() == 2


def test_a_dismissal_without_a_reason_is_refused_with_a_message(client, manager, catalog):
    customer = advisable_customer(manager)
    advice = recommend_for_customer(actor=manager, customer=customer)
    client.force_login(manager)

    response = client.post(
        reverse("recommendations:feedback", args=[customer.pk, advice.pk]),
        {"product": advice.items[0]["product_id"], "decision": "dismissed", "reason": "  "},
    )

    assert response.status_code == 400
    assert "Say why the product is dismissed." in response.content.decode()
    assert not RecommendationFeedback.objects.exists()


def test_feedback_on_a_product_not_in_the_advice_is_refused(client, manager, catalog):
    customer = advisable_customer(manager)
    advice = recommend_for_customer(actor=manager, customer=customer)
    client.force_login(manager)

    response = client.post(
        reverse("recommendations:feedback", args=[customer.pk, advice.pk]),
        {"product": catalog["JUNIOR"].pk, "decision": "accepted"},
        **HTMX,
    )

    assert "not part of this advice" in response.content.decode()
    assert not RecommendationFeedback.objects.exists()


def test_compliance_reads_advice_but_cannot_refresh_or_give_feedback(client, manager, compliance_officer, catalog):
    customer = advisable_customer(manager)
    advice = recommend_for_customer(actor=manager, customer=customer)
    client.force_login(compliance_officer)

    html = client.get(_panel_url(customer), **HTMX).content.decode()
    refused = client.post(reverse("recommendations:refresh", args=[customer.pk]))
    feedback = client.post(
        reverse("recommendations:feedback", args=[customer.pk, advice.pk]),
        {"product": advice.items[0]["product_id"], "decision": "accepted"},
    )

    assert advice.items[0]["product_name"] in html
    assert "Refresh advice" not in html and "Accept" not in html
    assert refused.status_code == 403 and feedback.status_code == 403
    assert not RecommendationFeedback.objects.exists()


def test_the_panel_notices_a_changed_holding_or_rate_without_waiting_for_the_cache(
    client, manager, catalog, eager_tasks, django_capture_on_commit_callbacks
):
    from apps.products.services import add_product_rate

    customer = advisable_customer(manager)
    client.force_login(manager)
    client.get(_panel_url(customer), **HTMX)

    HoldingFactory(customer=customer, category=Holding.Category.CREDIT_CARD, product=catalog["CARD"])
    after_holding = client.get(_panel_url(customer), **HTMX).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        add_product_rate(actor=None, product=catalog["TD12"], effective_from=dt.date(2026, 2, 1), rate=Decimal("4.4"))
    after_rate = client.get(_panel_url(customer), **HTMX).content.decode()

    rows = list(Recommendation.objects.filter(customer=customer).order_by("id"))
    assert len(rows) == 3 and len({row.profile_hash for row in rows}) == 2
    assert "CARD" in rows[0].product_codes and "CARD" not in rows[1].product_codes  # now held
    assert rows[1].invalidated_at is not None and rows[2].invalidated_at is None  # the rate change: TD12 was named
    assert "Card product" not in after_holding
    assert "4.40%" in after_rate and "4.10%" not in after_rate


@pytest.mark.parametrize("size", [3, 30])
def test_the_panel_runs_a_constant_number_of_queries(client, manager, catalog, size, django_assert_max_num_queries):
    customer = advisable_customer(manager)
    for n in range(size):
        HoldingFactory(customer=customer, category=Holding.Category.SAVINGS_ACCOUNT, product=catalog["EASY"])
        InteractionFactory(
            customer=customer, subject=f"Savings chat {n}", occurred_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
        )
    client.force_login(manager)
    client.get(_panel_url(customer), **HTMX)  # computes and caches the advice

    # Session and user (6 with the session save), one query for the customer's visibility and
    # data version, and the feedback; the profile hash and the advice come from the cache.
    with django_assert_max_num_queries(8):
        response = client.get(_panel_url(customer), **HTMX)

    assert response.status_code == 200
