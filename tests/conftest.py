"""Shared fixtures: people in each role, and the gate for real services.

A test that needs a real service asks `require_service(...)`: it skips with a reason when
the service is absent, and fails instead when FINPULSE_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings
from django.db import connections

from apps.identity import roles
from tests.identity.factories import BranchFactory, UserFactory

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def services_required() -> bool:
    return os.environ.get("FINPULSE_REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str | None, default_port: int) -> str:
    """Return the service URL, or skip (fail under FINPULSE_REQUIRE_SERVICES=1) without it."""
    if url and _reachable(url, default_port):
        return url
    reason = f"{name} is not available ({url or 'no URL configured'})"
    if services_required():
        pytest.fail(f"FINPULSE_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def database_url_for_processes() -> str:
    """The pytest-django test database as a DATABASE_URL for processes a test starts.

    Works for a TCP server and for the embedded server's Unix socket folder alike.
    """
    from django.db import connection

    params = connection.settings_dict
    user = quote(params.get("USER") or "postgres", safe="")
    password = f":{quote(params['PASSWORD'], safe='')}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or params.get("OPTIONS", {}).get("host") or "127.0.0.1"
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{params['NAME']}?host={quote(host, safe='')}"
    return f"postgres://{user}{password}@{host}:{params.get('PORT') or 5432}/{params['NAME']}"


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BROWSER_ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium (make browser-deps installs it); Playwright cannot download its own here."""
    if not Path(CHROMIUM).exists():
        reason = f"Chromium is not installed at {CHROMIUM} (make browser-deps)"
        if services_required():
            pytest.fail(f"FINPULSE_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def chromium(chromium_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Chromium under Playwright's sync API, closed after the test with the connections the test
    opened to the database while it ran.

    Playwright's sync API keeps an event loop running in this thread, so Django takes the test's
    own ORM calls for async code: DJANGO_ALLOW_ASYNC_UNSAFE lets them through, and asgiref keeps
    their connections apart from Django's own (a context variable while a loop runs). Django's
    teardown never sees those; left open, the last one kept the test database busy at the end of
    the run ("being accessed by other users"). They are closed here, while the loop still runs.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Fill and send the sign-in form in the browser, as a person would (what follows is the caller's to check)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")


# What a signed-in request pays on the bare machine's database cache beyond what it pays with Redis
# (finpulse/settings.py): its session and the user's roles and permissions are read from the
# database on every request, where Redis keeps them. Query ceilings are production's plus this.
DATABASE_CACHE_QUERIES = 3


@pytest.fixture
def cache_queries() -> int:
    """The queries a signed-in request pays for the cache in use: 0 with Redis, else DATABASE_CACHE_QUERIES."""
    return 0 if settings.REDIS_URL else DATABASE_CACHE_QUERIES


@pytest.fixture
def redis_url() -> str:
    return require_service("Redis", os.environ.get("REDIS_URL"), 6379)


@pytest.fixture
def rabbitmq_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    return require_service("RabbitMQ", url if url.startswith("amqp") else None, 5672)


@pytest.fixture(autouse=True, scope="session")
def _test_friendly_settings() -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The whole suite signs in from 127.0.0.1 within minutes; tests of the limits set their own.
    settings.FINPULSE_SIGNIN_PER_ACCOUNT = 10_000
    settings.FINPULSE_SIGNIN_PER_ADDRESS = 10_000
    # Pages render {% static %}; the manifest storage needs `collectstatic` first, which the
    # test that checks hashed static names runs itself.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Audit anchors never land in the project's var/ (tests that seal give each test its own folder).
    settings.FINPULSE_AUDIT_ANCHOR_BUCKET = ""
    settings.FINPULSE_AUDIT_ANCHOR_DIR = Path(tempfile.mkdtemp(prefix="finpulse-test-anchors-"))
    # A storage built before this fixture (Django's set-up) would keep the manifest one.
    from django.test.signals import storages_changed

    storages_changed(setting="STORAGES")


@pytest.fixture(autouse=True)
def _english_unless_asked() -> None:
    """Each test starts in LANGUAGE_CODE: a request in Italian leaves Italian active in the thread
    (LocaleMiddleware activates, nothing deactivates), and the next test would format in Italian."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _isolated_business_date(settings) -> None:  # type: ignore[no-untyped-def]
    from apps.core.business_date import forget_cached_override

    settings.FINPULSE_BUSINESS_DATE = ""
    forget_cached_override()


@pytest.fixture
def branch(db):  # type: ignore[no-untyped-def]
    return BranchFactory()


@pytest.fixture
def manager(branch):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, username="manager.a")


@pytest.fixture
def other_manager(branch):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, username="manager.b")


@pytest.fixture
def branch_manager(branch):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.BRANCH_MANAGER], branch=branch, username="branch.boss")


@pytest.fixture
def compliance_officer(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.COMPLIANCE_OFFICER], username="compliance")


@pytest.fixture
def administrator(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.ADMINISTRATOR], username="admin.user", is_staff=True)


# A real S3-compatible server (moto's server mode) for the object-storage tests.
from tests.s3_server import s3_server, s3_storage  # noqa: E402, F401
