"""Advice through the LLM, against a fake vendor on loopback speaking the real protocol."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from apps.accounts.models import Holding
from apps.accounts.services import update_holding
from apps.core import llm
from apps.products.services import add_product_rate
from apps.recommendations.models import Recommendation
from apps.recommendations.services import NO_VALID_ITEMS, recommend_for_customer
from apps.recommendations.validation import NOT_ELIGIBLE, PROMISSORY, UNKNOWN_PRODUCT
from tests.accounts.factories import HoldingFactory
from tests.interactions.factories import InteractionFactory
from tests.recommendations.factories import advisable_customer, small_catalog
from tests.recommendations.fake_openai import ok, rate_limited, server_error, slow

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):  # type: ignore[no-untyped-def]
    return small_catalog()


def _answer(*codes: str, rationale: str = "Deposit maturing soon; discuss options.") -> dict:
    return {
        "items": [
            {"product_code": code, "rank": rank, "rationale": rationale, "confidence": 0.8}
            for rank, code in enumerate(codes, start=1)
        ]
    }


def test_llm_advice_names_only_eligible_candidates_with_the_rules_they_passed(fake_openai, manager, catalog):
    customer = advisable_customer(manager)

    advice = recommend_for_customer(actor=manager, customer=customer)

    assert advice.source == Recommendation.Source.LLM
    assert advice.model == "fake-gpt"
    assert fake_openai.calls == 1
    codes = [item["product_code"] for item in advice.items]
    assert codes and set(codes) <= {"TD12", "EASY", "CARD"}
    assert all(item["rules_passed"] for item in advice.items)
    assert advice.prompt_tokens == 420 and advice.completion_tokens == 80
    assert advice.cost > 0
    sent = fake_openai.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["model"] == "fake-gpt"
    assert "guarantee" in sent["messages"][0]["content"].lower()  # the system prompt forbids them


def test_the_request_body_never_contains_the_customers_personal_data(fake_openai, manager, catalog):
    customer = advisable_customer(
        manager,
        first_name="Zebedee",
        last_name="Quuxington",
        national_id="ZX987654Q",
        email="zebedee.quux@private.example",
        phone="+44 7911 123456",
        address="42 Wallaby Way, Sydenham",
        external_id="CB-SECRET-7781",
    )
    HoldingFactory(
        customer=customer,
        category=Holding.Category.TERM_DEPOSIT,
        number="GB33BUKB20201555555555",
        external_id="HLD-SECRET-5151",
        balance=Decimal("25000.00"),
        opened_on=dt.date(2025, 3, 20),
        maturity_date=dt.date(2026, 3, 20),
    )
    HoldingFactory(customer=customer, category=Holding.Category.SAVINGS_ACCOUNT, number="12345678-SORT-998877")
    InteractionFactory(
        customer=customer,
        subject="Zebedee Quuxington asked about saving for a house",
        body="Call Zebedee on +44 7911 123456 or zebedee.quux@private.example, ID ZX987654Q.",
        next_step="Email zebedee.quux@private.example the deposit rates",
        occurred_at=dt.datetime(2026, 2, 20, 10, 0, tzinfo=dt.UTC),
    )

    recommend_for_customer(actor=manager, customer=customer)

    assert fake_openai.calls == 1
    body = fake_openai.raw_bodies[0]
    secrets = [
        "Zebedee",
        "Quuxington",
        "ZX987654Q",
        "zebedee.quux",
        "private.example",
        "7911",
        "123456",
        "Wallaby",
        "Sydenham",
        "CB-SECRET-7781",
        "HLD-SECRET-5151",
        "GB33BUKB20201555555555",
        "5555",
        "12345678",
        "998877",
        "1980-05-17",
    ]
    leaked = [secret for secret in secrets if secret.lower() in body.lower()]
    assert leaked == []
    # ... while the advice still used what the profile may say.
    profile = json.loads(json.loads(body)["messages"][1]["content"])["customer_profile"]
    assert "savings" in profile["recent_contacts"]["intents"]
    assert profile["upcoming_maturities"][0]["amount_band"] == "10k-50k"


def test_the_same_profile_is_served_from_the_cache_without_a_call(fake_openai, manager, catalog):
    customer = advisable_customer(manager)

    first = recommend_for_customer(actor=manager, customer=customer)
    second = recommend_for_customer(actor=manager, customer=customer)

    assert fake_openai.calls == 1
    assert second.pk == first.pk
    assert second.items == first.items


def test_a_changed_holding_means_a_new_hash_and_a_new_call(fake_openai, manager, catalog):
    customer = advisable_customer(manager)
    holding = HoldingFactory(customer=customer, category=Holding.Category.SAVINGS_ACCOUNT, balance=Decimal("500"))
    first = recommend_for_customer(actor=manager, customer=customer)

    update_holding(actor=None, holding=holding, balance=Decimal("80000"))
    second = recommend_for_customer(actor=manager, customer=customer)

    assert fake_openai.calls == 2
    assert second.profile_hash != first.profile_hash


def test_a_rate_change_of_a_product_the_advice_names_means_a_new_call_with_the_new_rate(
    fake_openai, manager, catalog, eager_tasks, django_capture_on_commit_callbacks
):
    customer = advisable_customer(manager)
    first = recommend_for_customer(actor=manager, customer=customer)
    assert "TD12" in first.product_codes

    with django_capture_on_commit_callbacks(execute=True):
        add_product_rate(actor=None, product=catalog["TD12"], effective_from=dt.date(2026, 2, 1), rate=Decimal("4.6"))
    second = recommend_for_customer(actor=manager, customer=customer)

    first.refresh_from_db()
    assert first.invalidated_at is not None
    assert fake_openai.calls == 2 and second.pk != first.pk
    assert second.profile_hash == first.profile_hash  # rates are not in the hash: the invalidation is explicit
    assert '"rate_percent":"4.6000"' in fake_openai.raw_bodies[1].replace(" ", "").replace("\\", "")


def test_a_rate_change_of_a_product_nobody_is_advised_leaves_the_advice_and_makes_no_call(
    fake_openai, manager, catalog, eager_tasks, django_capture_on_commit_callbacks
):
    customer = advisable_customer(manager)
    first = recommend_for_customer(actor=manager, customer=customer)
    assert "PRIV" not in first.product_codes  # private banking only

    with django_capture_on_commit_callbacks(execute=True):
        add_product_rate(actor=None, product=catalog["PRIV"], effective_from=dt.date(2026, 2, 1), rate=Decimal("5.5"))
    again = recommend_for_customer(actor=manager, customer=customer)

    assert fake_openai.calls == 1 and again.pk == first.pk


def test_an_identical_profile_of_another_customer_reuses_the_advice_without_a_call(fake_openai, manager, catalog):
    first = recommend_for_customer(actor=manager, customer=advisable_customer(manager))
    twin = advisable_customer(manager)

    reused = recommend_for_customer(actor=manager, customer=twin)

    assert fake_openai.calls == 1
    assert reused.customer_id == twin.pk and reused.pk != first.pk
    assert reused.from_cache and reused.items == first.items
    assert reused.prompt_tokens == 0


def test_an_unknown_product_is_dropped_and_counted(fake_openai, manager, catalog):
    fake_openai.queue(ok(_answer("NOPE99", "TD12")))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert advice.source == Recommendation.Source.LLM
    assert advice.product_codes == ["TD12"]
    assert advice.items[0]["rank"] == 1
    assert advice.dropped_items == [{"product_code": "NOPE99", "reason": UNKNOWN_PRODUCT}]


def test_an_ineligible_product_is_dropped_and_counted(fake_openai, manager, catalog):
    # JUNIOR exists but is for under-18s; PRIV only for private banking.
    fake_openai.queue(ok(_answer("JUNIOR", "EASY", "PRIV")))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert advice.source == Recommendation.Source.LLM
    assert advice.product_codes == ["EASY"]
    assert {d["product_code"]: d["reason"] for d in advice.dropped_items} == {
        "JUNIOR": NOT_ELIGIBLE,
        "PRIV": NOT_ELIGIBLE,
    }


def test_an_answer_with_no_valid_product_falls_back_to_the_rule_engine(fake_openai, manager, catalog):
    fake_openai.queue(ok(_answer("JUNIOR", "NOPE99")))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert advice.source == Recommendation.Source.RULES
    assert advice.fallback_reason == NO_VALID_ITEMS
    assert advice.items and set(advice.product_codes) <= {"TD12", "EASY", "CARD"}
    assert len(advice.dropped_items) == 2


def test_promises_of_returns_are_dropped(fake_openai, manager, catalog):
    fake_openai.queue(
        ok({"items": [*_answer("TD12")["items"], *_answer("EASY", rationale="Guaranteed returns!")["items"]]})
    )

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert advice.product_codes == ["TD12"]
    assert advice.dropped_items == [{"product_code": "EASY", "reason": PROMISSORY}]


@pytest.mark.parametrize("content", ["{not json", json.dumps(["TD12"]), json.dumps({"products": []})])
def test_malformed_output_falls_back_to_the_rule_engine_and_still_counts_tokens(fake_openai, manager, catalog, content):
    fake_openai.queue(ok(content))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert advice.source == Recommendation.Source.RULES
    assert advice.fallback_reason == llm.MALFORMED
    assert advice.items
    assert advice.prompt_tokens == 420  # the vendor billed them


def test_a_429_then_success_is_retried_and_answers_from_the_llm(fake_openai, manager, catalog):
    fake_openai.queue(rate_limited(retry_after="0"))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert fake_openai.calls == 2
    assert advice.source == Recommendation.Source.LLM


def test_a_retry_after_longer_than_we_wait_falls_back_at_once(fake_openai, manager, catalog, settings):
    settings.FINPULSE_LLM_RETRY_AFTER_MAX_SECONDS = 5
    fake_openai.queue(rate_limited(retry_after="3600"))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert fake_openai.calls == 1
    assert advice.source == Recommendation.Source.RULES
    assert advice.fallback_reason == llm.RATE_LIMITED


def test_a_timeout_falls_back_to_the_rule_engine(fake_openai, manager, catalog, settings):
    settings.OPENAI_TIMEOUT = 0.3
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 2
    fake_openai.queue(slow(1.0), slow(1.0))

    advice = recommend_for_customer(actor=manager, customer=advisable_customer(manager))

    assert fake_openai.calls == 2
    assert advice.source == Recommendation.Source.RULES
    assert advice.fallback_reason == llm.FAILED
    assert advice.items


def test_a_500_storm_opens_the_circuit_and_the_rule_engine_answers_without_calls(
    fake_openai, manager, catalog, settings
):
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 3
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 2
    fake_openai.queue(*[server_error() for _ in range(10)])
    customer = advisable_customer(manager)

    first = recommend_for_customer(actor=manager, customer=customer, force=True)  # 2 failed attempts
    second = recommend_for_customer(actor=manager, customer=customer, force=True)  # 3rd failure opens it
    third = recommend_for_customer(actor=manager, customer=customer, force=True)  # fails fast

    assert fake_openai.calls == 3
    assert llm.circuit_state() == "open"
    assert [a.source for a in (first, second, third)] == ["rules"] * 3
    assert (first.fallback_reason, third.fallback_reason) == (llm.FAILED, llm.CIRCUIT_OPEN)
    assert all(a.items for a in (first, second, third))


def test_a_fallback_is_cached_only_briefly(fake_openai, manager, catalog, settings):
    fake_openai.queue(ok("{oops"))
    customer = advisable_customer(manager)
    fallback = recommend_for_customer(actor=manager, customer=customer)
    assert fallback.source == "rules"

    # Within the short fallback lifetime the same answer is served; after it, the LLM is asked again.
    assert recommend_for_customer(actor=manager, customer=customer).pk == fallback.pk
    Recommendation.objects.filter(pk=fallback.pk).update(created_at=fallback.created_at - dt.timedelta(hours=1))
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "flushed"}}
    again = recommend_for_customer(actor=manager, customer=customer)

    assert again.source == "llm"
    assert fake_openai.calls == 2


def _maturing_customer(manager, catalog):  # type: ignore[no-untyped-def]
    customer = advisable_customer(manager)
    HoldingFactory(
        customer=customer,
        category=Holding.Category.TERM_DEPOSIT,
        product=catalog["TD12"],
        balance=Decimal("48250.00"),
        opened_on=dt.date(2025, 3, 9),
        maturity_date=dt.date(2026, 3, 9),
    )
    return customer


def test_the_prompt_gives_the_llm_each_candidates_reason_in_the_customers_terms(fake_openai, manager, catalog):
    customer = _maturing_customer(manager, catalog)

    recommend_for_customer(actor=manager, customer=customer)

    user = next(m["content"] for m in fake_openai.requests[0]["messages"] if m["role"] == "user")
    reasons = {c["product_code"]: c["why_it_fits"] for c in json.loads(user)["candidates"]}
    assert reasons["TD12"] == "GBP 48,250 fixed deposit matures on 9 Mar; renewal at 4.10%."
    assert len(set(reasons.values())) == len(reasons)
    assert customer.last_name not in user and customer.external_id not in user


def test_a_rationale_the_llm_repeats_is_replaced_by_the_engines_reason_for_that_product(fake_openai, manager, catalog):
    customer = _maturing_customer(manager, catalog)
    same = "Worth a conversation before the deposit matures."
    fake_openai.queue(ok(_answer("TD12", "EASY", rationale=same)))

    advice = recommend_for_customer(actor=manager, customer=customer)

    assert advice.source == "llm"
    assert [item["rationale"] for item in advice.items] == [
        same,
        "GBP 48,250 fixed deposit matures on 9 Mar; Easy product at 2.50% on that date.",
    ]
    assert advice.dropped_items == []
