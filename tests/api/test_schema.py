"""The OpenAPI document: checked in, valid, in step with the code; docs served without a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.api.models import Scope
from finpulse import api_urls
from tests.api.conftest import issue_key, key_client

CHECKED_IN = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
VENDOR = Path(settings.BASE_DIR) / "static" / "vendor" / "swagger-ui"


@pytest.mark.django_db
def test_the_checked_in_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"

    # --validate checks it against the OpenAPI 3 meta-schema; --fail-on-warn refuses guesses.
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")

    assert generated.read_text() == CHECKED_IN.read_text(), (
        "docs/openapi.yaml is out of date: run `python manage.py spectacular --file docs/openapi.yaml`"
    )


def test_the_schema_is_served_to_authenticated_callers_only(manager):
    _, secret = issue_key(manager, [Scope.CUSTOMERS_READ])

    assert APIClient().get("/api/v1/schema/").status_code == 401
    response = key_client(secret).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "FinPulse API"


def test_the_docs_page_loads_only_vendored_assets(client, manager, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client.force_login(manager)

    page = client.get("/api/v1/docs/")
    script = client.get("/api/v1/docs/?script=")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/") for url in assets), assets
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/static/vendor/swagger-ui/{name}" in html
        assert (VENDOR / name).is_file()
    assert "<style>" not in html and "<script>" not in html  # the CSP allows no inline code
    assert script.status_code == 200
    assert "/api/v1/schema/" in script.content.decode()


def test_the_docs_page_needs_a_signed_in_employee(client, db):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 302
    assert settings.LOGIN_URL in response["Location"]


def test_every_write_is_idempotent_or_conditional():
    """A creating POST needs an Idempotency-Key; a PATCH needs If-Match; other POSTs are conditional."""
    for prefix, viewset, _ in api_urls.router.registry:
        if hasattr(viewset, "create"):
            assert getattr(viewset.create, "idempotency", None) == "required", prefix
        if hasattr(viewset, "partial_update"):
            assert getattr(viewset.partial_update, "if_match", None) == "required", prefix
        for action in viewset.get_extra_actions():
            if set(action.mapping) - {"get"}:
                marked = getattr(action, "if_match", None) or getattr(action, "idempotency", None)
                assert marked, f"{prefix}/{action.url_path} writes without idempotency or If-Match"
