"""The LLM path against a local OpenAI-protocol server (tests/recommendations/fake_openai.py).

Nothing of ours is patched: the real openai client speaks HTTP to the fake vendor, through
the shared client (apps.core.llm) with its retries, breaker and rate limiter.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from apps.core.models import AuditEvent
from apps.leads.llm_extraction import RESPONSE_SCHEMA, SCHEMA_NAME
from apps.leads.models import Lead
from apps.leads.services import ExtractionDeferred, process_lead, stuck_lead_ids, sweep_stuck_leads
from tests.leads.factories import new_lead
from tests.recommendations.fake_openai import ok, rate_limited, server_error

S = Lead.State

ANSWER = {
    "monthly_income": 3100,
    "requested_amount": 9500,
    "currency": "USD",
    "loan_purpose": "car_purchase",
    "intent": "car_loan",
    "constraints": [],
    "confidence": {"monthly_income": 0.92, "requested_amount": 0.95, "loan_purpose": 0.9, "intent": 0.97},
}
TEXT = "I'm Jane Applicant (jane@mail.example, 07700 900456). I want to buy a used car, around $9,500. Income 3,100."


def _extraction_event(lead: Lead) -> AuditEvent:
    return AuditEvent.objects.get(object_id=str(lead.pk), action__in=["lead.qualified", "lead.sent_to_review"])


def test_the_request_follows_the_contract_and_carries_no_contact_details(fake_llm, branch):
    fake_llm.queue(ok(ANSWER))
    lead = new_lead(branch=branch, text=TEXT, full_name="Jane Applicant", email="jane@mail.example")
    process_lead(lead_id=lead.pk)

    assert fake_llm.calls == 1
    body = fake_llm.requests[0]
    assert body["model"] == "fake-gpt"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": RESPONSE_SCHEMA, "strict": True},
    }
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    assert "Never give financial advice" in system
    assert "approved" in system and "never promise" in system
    assert "null" in system and "Never guess" in system
    raw = fake_llm.raw_bodies[0]
    for secret in ("jane@mail.example", "900456", "Jane", "Applicant"):
        assert secret not in raw
    user = json.loads(next(m["content"] for m in body["messages"] if m["role"] == "user"))
    assert "$9,500" in user["inquiry"]


def test_the_answer_fills_the_lead_with_its_confidences(fake_llm, branch):
    fake_llm.queue(ok(ANSWER))
    lead = new_lead(branch=branch, text=TEXT)
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.state == S.QUALIFIED
    assert (lead.intent, lead.requested_amount, lead.monthly_income, lead.currency) == (
        "car_loan",
        Decimal("9500.00"),
        Decimal("3100.00"),
        "USD",
    )
    assert (lead.extracted_by, lead.extraction_model) == ("llm", "fake-gpt")
    assert lead.intent_confidence == 0.97
    assert _extraction_event(lead).metadata["extracted_by"] == "llm"


def test_a_null_amount_from_the_llm_sends_the_lead_to_review(fake_llm, branch):
    fake_llm.queue(ok({**ANSWER, "requested_amount": None}))
    lead = new_lead(branch=branch, text="Hi, I'd like a car loan")
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.state == S.NEEDS_REVIEW
    assert lead.requested_amount is None


@pytest.mark.parametrize(
    "reply",
    [
        ok("this is not json"),
        ok({**ANSWER, "intent": "lottery"}),
        ok({**ANSWER, "requested_amount": -5}),
        ok({**ANSWER, "confidence": {**ANSWER["confidence"], "intent": 7}}),
        ok({"items": []}),
    ],
    ids=["not-json", "unknown-intent", "negative-amount", "confidence-out-of-range", "wrong-shape"],
)
def test_an_unusable_answer_falls_back_to_the_rule_engine(reply, fake_llm, branch):
    fake_llm.queue(reply)
    lead = new_lead(branch=branch, text="Car loan of $9,500 please, I earn 3,100 a month")
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.extracted_by == "rules"
    assert lead.requested_amount == Decimal("9500.00")
    assert _extraction_event(lead).metadata["llm_unavailable"] == "malformed_output"


def test_a_429_is_retried_by_the_shared_client_and_the_lead_extracted_once(fake_llm, branch):
    fake_llm.queue(rate_limited("0"), ok(ANSWER))
    lead = new_lead(branch=branch, text=TEXT)
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert fake_llm.calls == 2
    assert lead.extracted_by == "llm"
    assert lead.transitions.filter(from_state=S.QUALIFYING).count() == 1


def test_while_the_llm_is_down_the_lead_waits_in_qualifying_then_rules_serve(fake_llm, branch, settings):
    settings.FINPULSE_LEAD_LLM_MAX_ATTEMPTS = 2
    settings.FINPULSE_LEAD_RETRY_BASE_SECONDS = 1
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 100
    fake_llm.queue(*[server_error(503)] * 6)
    lead = new_lead(branch=branch, text="Car loan of $9,500 please, I earn 3,100 a month")

    with pytest.raises(ExtractionDeferred) as deferred:
        process_lead(lead_id=lead.pk)
    assert deferred.value.reason == "llm_failed"
    lead.refresh_from_db()
    assert lead.state == S.QUALIFYING and lead.extraction_attempts == 1
    assert process_lead(lead_id=lead.pk) is None  # not before its retry time
    assert lead.pk not in stuck_lead_ids()

    time.sleep(1.1)
    assert lead.pk in stuck_lead_ids()  # the sweeper would pick it up now
    process_lead(lead_id=lead.pk)  # second attempt: still down, attempts used up: rules serve
    lead.refresh_from_db()
    assert lead.state in (S.QUALIFIED, S.NEEDS_REVIEW)
    assert lead.extracted_by == "rules"
    assert _extraction_event(lead).metadata["llm_unavailable"] == "llm_failed"


def test_an_open_circuit_defers_without_calling_the_vendor(fake_llm, branch, settings):
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 1
    fake_llm.queue(server_error(500))
    first = new_lead(branch=branch, text=TEXT)
    with pytest.raises(ExtractionDeferred):
        process_lead(lead_id=first.pk)
    calls = fake_llm.calls
    second = new_lead(branch=branch, text=TEXT)
    with pytest.raises(ExtractionDeferred) as deferred:
        process_lead(lead_id=second.pk)
    assert deferred.value.reason == "circuit_open"
    assert fake_llm.calls == calls


def test_the_rate_limiter_makes_a_burst_wait_for_its_slot(fake_llm, branch, settings):
    """Slots of 0.1 s, one in the bucket: three leads at once all go to the LLM, one after another."""
    settings.FINPULSE_LLM_RATE_PER_MINUTE = 600
    settings.FINPULSE_LLM_BURST = 1
    settings.FINPULSE_LLM_RATE_MAX_WAIT_SECONDS = 2.0
    fake_llm.queue(ok(ANSWER), ok(ANSWER), ok(ANSWER))
    leads = [new_lead(branch=branch, text=TEXT) for _ in range(3)]
    for lead in leads:
        process_lead(lead_id=lead.pk)
    for lead in leads:
        lead.refresh_from_db()
        assert lead.extracted_by == "llm" and lead.extraction_attempts == 1
    assert fake_llm.calls == 3


def test_when_the_limiters_queue_is_full_the_lead_is_deferred_not_failed(fake_llm, branch, settings):
    # One request a minute and no waiting: the second lead finds no slot.
    settings.FINPULSE_LLM_RATE_PER_MINUTE = 1
    settings.FINPULSE_LLM_BURST = 1
    settings.FINPULSE_LLM_RATE_MAX_WAIT_SECONDS = 0.0
    settings.FINPULSE_LEAD_RETRY_BASE_SECONDS = 1
    fake_llm.queue(ok(ANSWER), ok(ANSWER))
    first, second = new_lead(branch=branch, text=TEXT), new_lead(branch=branch, text=TEXT)
    process_lead(lead_id=first.pk)
    with pytest.raises(ExtractionDeferred) as deferred:
        process_lead(lead_id=second.pk)
    assert deferred.value.reason == "rate_limited"
    second.refresh_from_db()
    assert second.state == S.QUALIFYING and second.extracted_by == ""
    assert fake_llm.calls == 1  # the limiter held the request back: the vendor never saw it

    settings.FINPULSE_LLM_RATE_PER_MINUTE = 100000  # the minute "passes"
    time.sleep(1.1)  # the lead's own retry time
    assert sweep_stuck_leads() == 1
    process_lead(lead_id=second.pk)
    second.refresh_from_db()
    assert second.extracted_by == "llm"
    assert fake_llm.calls == 2
