"""The session middleware: deactivated users are out; SSO re-checks work for pages and htmx."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY

from apps.core.models import AuditEvent
from tests.identity.conftest import point_settings_at

OIDC_BACKEND = "apps.identity.backends.FinPulseOIDCBackend"


@pytest.fixture
def sso_session(client, manager, settings):  # type: ignore[no-untyped-def]
    point_settings_at(settings, "http://127.0.0.1:9")
    client.force_login(manager, backend=OIDC_BACKEND)
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1  # due for a re-check
    session.save()
    return client


def test_a_due_page_request_goes_through_a_silent_reauthentication(sso_session):
    response = sso_session.get("/tasks/?status=open")

    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith("http://127.0.0.1:9/auth?")
    assert query["prompt"] == ["none"]
    assert query["code_challenge_method"] == ["S256"]
    assert sso_session.session["oidc_login_next"] == "/tasks/?status=open"


def test_a_due_htmx_request_gets_401_and_hx_redirect_back_to_the_page_not_the_fragment(sso_session):
    response = sso_session.get(
        "/customers/?q=smith",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/customers/42/"},
    )

    assert response.status_code == 401
    assert "prompt=none" in response["HX-Redirect"]
    assert sso_session.session["oidc_login_next"] == "/customers/42/"


def test_a_due_htmx_post_also_gets_the_hx_redirect(sso_session):
    response = sso_session.post("/tasks/1/complete/", headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("http://127.0.0.1:9/auth?")


def test_a_session_not_yet_due_is_left_alone(sso_session):
    session = sso_session.session
    session["oidc_id_token_expiration"] = time.time() + 600
    session.save()

    assert sso_session.get("/accounts/login/").status_code == 200
    assert sso_session.get("/customers/").status_code == 200


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/logged-out/", "/api/v1/customers/"])
def test_a_due_session_still_reaches_the_sign_in_and_signed_out_pages_and_the_api(sso_session, path):
    response = sso_session.get(path)

    assert response.status_code != 302 or "prompt=none" not in response["Location"]


def test_a_local_session_is_not_sent_to_the_provider(client, manager, settings):
    point_settings_at(settings, "http://127.0.0.1:9")
    client.force_login(manager)  # ModelBackend: demo sign-in

    assert client.get("/customers/").status_code == 200


def test_a_deactivated_users_session_ends(client, manager):
    client.force_login(manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    response = client.get("/customers/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    event = AuditEvent.objects.get(action="session.ended")
    assert event.metadata["reason"] == "account_disabled"
    assert event.actor == manager


def test_a_deactivated_users_htmx_request_is_sent_to_the_login_page(client, manager):
    client.force_login(manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    response = client.get("/customers/", headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/"
