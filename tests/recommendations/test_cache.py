"""The advice cache: real Redis for hits, a dead Redis degrading to the stored row, and the
breaker's state shared through the database cache."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from apps.core import llm
from apps.recommendations.models import Recommendation
from apps.recommendations.services import advice_key, recommend_for_customer
from tests.recommendations.factories import advisable_customer, small_catalog
from tests.recommendations.fake_openai import server_error

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-reco-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


@pytest.mark.services
def test_a_cache_hit_in_redis_makes_no_vendor_call(fake_openai, manager, settings, redis_url, client):
    settings.CACHES = _redis_cache(redis_url)
    small_catalog()
    customer = advisable_customer(manager)

    first = recommend_for_customer(actor=manager, customer=customer)
    assert cache.get(advice_key(first.profile_hash))["id"] == first.pk  # really in Redis
    client.force_login(manager)
    page = client.get(reverse("recommendations:panel", args=[customer.pk]), HTTP_HX_REQUEST="true")
    again = recommend_for_customer(actor=manager, customer=customer)

    assert page.status_code == 200
    assert first.items[0]["product_name"] in page.content.decode()
    assert again.pk == first.pk
    assert fake_openai.calls == 1
    cache.delete(advice_key(first.profile_hash))


def test_with_redis_down_the_panel_is_served_from_the_stored_row(manager, settings, client):
    small_catalog()
    customer = advisable_customer(manager)
    stored = recommend_for_customer(actor=manager, customer=customer)  # rule engine (no key)
    settings.CACHES = _redis_cache(DEAD_REDIS)
    client.force_login(manager)

    response = client.get(reverse("recommendations:panel", args=[customer.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert stored.items[0]["product_name"] in response.content.decode()
    assert Recommendation.objects.filter(customer=customer).count() == 1


def test_with_redis_down_and_no_stored_row_the_advice_is_computed(manager, settings, client):
    small_catalog()
    customer = advisable_customer(manager)
    settings.CACHES = _redis_cache(DEAD_REDIS)
    client.force_login(manager)

    response = client.get(reverse("recommendations:panel", args=[customer.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert Recommendation.objects.filter(customer=customer, source="rules").count() == 1


def test_with_redis_down_the_llm_still_answers(fake_openai, manager, settings):
    small_catalog()
    settings.CACHES = _redis_cache(DEAD_REDIS)

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert advice.source == "llm"
    assert fake_openai.calls == 1


def test_the_circuit_state_lives_in_the_database_cache_for_every_process(fake_openai, manager, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "reco_test"}}
    call_command("createcachetable", verbosity=0)
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 2
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 2
    fake_openai.queue(server_error(), server_error(503))
    small_catalog()

    recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reco_test WHERE cache_key LIKE %s", ["%circuit:open-until%"])
        assert cursor.fetchone()[0] == 1
    assert llm.circuit_state() == "open"
    assert fake_openai.calls == 2
