"""Fixtures: an isolated cache per test, a pinned business date, the fake LLM vendor."""

from __future__ import annotations

import uuid

import pytest

from tests.recommendations.fake_openai import FakeOpenAI
from tests.workspace.support import TODAY


@pytest.fixture(autouse=True)
def _isolated_cache(settings):  # type: ignore[no-untyped-def]
    """Each test gets its own empty cache, so advice, breaker and bucket never leak between tests."""
    isolated = f"reco-{uuid.uuid4()}"
    # Both aliases the settings always define: the 360 page keeps its panels in "fragments" (decision 189).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": isolated},
        "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"{isolated}-fragments"},
    }
    settings.OPENAI_API_KEY = ""
    settings.FINPULSE_BUSINESS_DATE = TODAY.isoformat()


@pytest.fixture
def role_permissions(db):  # type: ignore[no-untyped-def]
    from apps.identity.roles import sync_role_permissions

    sync_role_permissions()


@pytest.fixture
def fake_openai(settings):  # type: ignore[no-untyped-def]
    """The vendor on loopback, and settings pointing the real client at it (fast retries)."""
    server = FakeOpenAI().start()
    settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_MODEL = "fake-gpt"
    settings.OPENAI_TIMEOUT = 2.0
    settings.FINPULSE_LLM_MAX_ATTEMPTS = 3
    settings.FINPULSE_LLM_BACKOFF_BASE_SECONDS = 0.01
    settings.FINPULSE_LLM_BACKOFF_MAX_SECONDS = 0.05
    settings.FINPULSE_LLM_CIRCUIT_THRESHOLD = 5
    settings.FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS = 60
    settings.FINPULSE_LLM_RATE_PER_MINUTE = 6000
    settings.FINPULSE_LLM_BURST = 50
    yield server
    server.stop()


@pytest.fixture
def eager_tasks():  # type: ignore[no-untyped-def]
    """Celery runs a published task at once, in this process (the worker's code, no broker)."""
    from finpulse.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False
