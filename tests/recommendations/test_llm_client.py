"""The shared LLM client's protections: the token bucket queues, the breaker half-opens."""

from __future__ import annotations

import time

import pytest

from apps.core import llm
from tests.recommendations.fake_openai import ok, server_error

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["answer"],
    "properties": {"answer": {"type": "string"}},
}


def _ask() -> llm.LlmResult:
    return llm.complete_json(system="Be brief.", user="Say hi.", schema_name="hi", schema=SCHEMA)


def test_a_burst_beyond_the_bucket_waits_for_a_slot_instead_of_failing(settings):
    settings.FINPULSE_LLM_RATE_PER_MINUTE = 60  # one slot a second
    settings.FINPULSE_LLM_BURST = 2
    settings.FINPULSE_LLM_RATE_MAX_WAIT_SECONDS = 3
    now = 1_000_000.0

    waits = [llm._acquire_slot(now=now) for _ in range(5)]

    assert waits[:2] == [0.0, 0.0]  # the saved tokens
    assert waits[2:] == [1.0, 2.0, 3.0]  # queued one interval apart
    with pytest.raises(llm.LlmUnavailable) as refused:
        llm._acquire_slot(now=now)
    assert refused.value.reason == llm.RATE_LIMITED


def test_no_key_means_no_call_and_a_clear_reason(settings):
    settings.OPENAI_API_KEY = ""

    with pytest.raises(llm.LlmUnavailable) as error:
        _ask()

    assert error.value.reason == llm.NOT_CONFIGURED


def test_the_client_returns_parsed_json_usage_cost_and_latency(fake_openai):
    fake_openai.queue(ok({"answer": "hi"}))

    result = _ask()

    assert result.data == {"answer": "hi"}
    assert result.model == "fake-gpt"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.attempts) == (420, 80, 1)
    assert result.usage.cost > 0 and result.usage.latency_ms >= 0
    assert fake_openai.requests[0]["response_format"]["json_schema"]["strict"] is True


def test_after_the_cool_down_one_probe_closes_the_circuit(fake_openai, settings):
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 2
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 2
    settings.FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS = 1
    fake_openai.queue(server_error(), server_error(), ok({"answer": "back"}))
    with pytest.raises(llm.LlmUnavailable):
        _ask()
    assert llm.circuit_state() == "open"
    with pytest.raises(llm.LlmUnavailable) as fast:
        _ask()
    assert fast.value.reason == llm.CIRCUIT_OPEN
    assert fake_openai.calls == 2

    time.sleep(1.1)  # the cool-down
    assert llm.circuit_state() == "half_open"
    assert _ask().data == {"answer": "back"}

    assert llm.circuit_state() == "closed"
    assert fake_openai.calls == 3


def test_a_failed_probe_reopens_the_circuit(fake_openai, settings):
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 1
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 1
    settings.FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS = 1
    fake_openai.queue(server_error(), server_error())
    with pytest.raises(llm.LlmUnavailable):
        _ask()
    time.sleep(1.1)

    with pytest.raises(llm.LlmUnavailable):
        _ask()  # the probe fails

    assert llm.circuit_state() == "open"
    assert fake_openai.calls == 2
