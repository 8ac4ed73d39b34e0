"""Fixtures for leads: an isolated cache, an in-memory broker, the LLM off unless a test starts the fake."""

from __future__ import annotations

import uuid

import pytest

from tests.recommendations.fake_openai import FakeOpenAI


@pytest.fixture(autouse=True)
def _isolated_leads_settings(settings):  # type: ignore[no-untyped-def]
    """Own cache per test (limiter, breaker, form rate limit); rules only unless fake_llm is used."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"leads-{uuid.uuid4()}"}
    }
    settings.OPENAI_API_KEY = ""
    settings.FINPULSE_LEAD_SPECIALISTS = {}
    settings.FINPULSE_LEAD_DEFAULT_BRANCH = ""


@pytest.fixture(autouse=True)
def _memory_broker():  # type: ignore[no-untyped-def]
    """Extraction messages published after commit go to an in-memory broker, not var/broker."""
    from finpulse.celery import use_broker

    use_broker("memory://", f"leads-test-{uuid.uuid4().hex[:8]}")
    yield
    use_broker()


@pytest.fixture
def fake_llm(settings):  # type: ignore[no-untyped-def]
    """The shared fake vendor on loopback, with the real client pointed at it and fast retries."""
    server = FakeOpenAI().start()
    configure_llm(settings, server.base_url)
    yield server
    server.stop()


def configure_llm(settings, base_url: str) -> None:  # type: ignore[no-untyped-def]
    settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.OPENAI_BASE_URL = base_url
    settings.OPENAI_MODEL = "fake-gpt"
    settings.OPENAI_TIMEOUT = 2.0
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 3
    settings.FINPULSE_LLM_BACKOFF_BASE_SECONDS = 0.001
    settings.FINPULSE_LLM_BACKOFF_MAX_SECONDS = 0.005
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 5
    settings.FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS = 60
    settings.FINPULSE_LLM_RATE_PER_MINUTE = 100000
    settings.FINPULSE_LLM_BURST = 1000
