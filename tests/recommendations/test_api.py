"""Advice over the REST API: read it, read the latest, ask for fresh advice idempotently."""

from __future__ import annotations

import pytest

from apps.recommendations.models import Recommendation
from apps.recommendations.services import recommend_for_customer
from tests.api.conftest import problem
from tests.recommendations.factories import advisable_customer, small_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("role_permissions", "_api_rates")]
REFRESH = "/api/v1/recommendations/refresh/"


@pytest.fixture
def _api_rates(settings):  # type: ignore[no-untyped-def]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/min"}}


@pytest.fixture
def api_client_for():  # type: ignore[no-untyped-def]
    from tests.api.conftest import issue_key, key_client

    def build(user, scopes=None):  # type: ignore[no-untyped-def]
        return key_client(issue_key(user, scopes)[1])

    return build


@pytest.fixture
def catalog(db):  # type: ignore[no-untyped-def]
    return small_catalog()


def test_advice_is_listed_read_and_the_latest_found_by_customer(manager, api_client_for, catalog):
    customer = advisable_customer(manager)
    advice = recommend_for_customer(actor=manager, customer=customer)
    api = api_client_for(manager)

    listed = api.get("/api/v1/recommendations/", {"customer": customer.pk}).json()["results"]
    detail = api.get(f"/api/v1/recommendations/{advice.pk}/").json()
    latest = api.get("/api/v1/recommendations/latest/", {"customer": customer.pk})

    assert [row["id"] for row in listed] == [advice.pk]
    assert detail["source"] == "rules" and detail["fallback_reason"] == "not_configured"
    assert detail["items"][0]["rules_passed"]
    assert "snapshot" not in detail and "prompt" not in detail
    assert latest.status_code == 200 and latest.json()["id"] == advice.pk
    assert latest["ETag"]


def test_latest_of_another_managers_customer_is_a_404(manager, other_manager, api_client_for, catalog):
    customer = advisable_customer(other_manager)
    recommend_for_customer(actor=other_manager, customer=customer)

    response = api_client_for(manager).get("/api/v1/recommendations/latest/", {"customer": customer.pk})

    assert response.status_code == 404
    problem(response)


def test_asking_for_fresh_advice_needs_an_idempotency_key(manager, api_client_for, catalog):
    customer = advisable_customer(manager)

    response = api_client_for(manager).post(REFRESH, {"customer": customer.pk}, format="json")

    assert response.status_code == 400
    problem(response)
    assert not Recommendation.objects.exists()


def test_fresh_advice_is_created_once_per_idempotency_key(manager, api_client_for, catalog, fake_openai):
    customer = advisable_customer(manager)
    api = api_client_for(manager)

    first = api.post(REFRESH, {"customer": customer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reco-1")
    replay = api.post(REFRESH, {"customer": customer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reco-1")
    other = api.post(REFRESH, {"customer": customer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reco-2")

    assert first.status_code == 201, first.content
    assert first["Location"] == f"/api/v1/recommendations/{first.json()['id']}/"
    assert first.json()["source"] == "llm"
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert other.json()["id"] != first.json()["id"]  # a new key is a new request: fresh advice
    assert fake_openai.calls == 2
    assert Recommendation.objects.filter(customer=customer).count() == 2


def test_fresh_advice_for_another_managers_customer_is_a_404(manager, other_manager, api_client_for, catalog):
    customer = advisable_customer(other_manager)

    response = api_client_for(manager).post(
        REFRESH, {"customer": customer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reco-x"
    )

    assert response.status_code == 404
    problem(response)
    assert not Recommendation.objects.exists()


def test_fresh_advice_without_consent_is_a_clear_conflict(manager, api_client_for, catalog):
    customer = advisable_customer(manager, profiling=False)

    response = api_client_for(manager).post(
        REFRESH, {"customer": customer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reco-c"
    )

    assert response.status_code == 409
    assert "consented to profiling" in problem(response)["detail"]


def test_a_read_only_key_cannot_ask_for_advice(manager, api_client_for, catalog):
    customer = advisable_customer(manager)
    api = api_client_for(manager, scopes=["recommendations:read"])

    response = api.post(REFRESH, {"customer": customer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reco-r")

    assert response.status_code == 403
    problem(response)
