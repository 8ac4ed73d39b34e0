"""The sign-in page: SSO for everyone, demo passwords only outside production."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY

from apps.core.models import AuditEvent
from tests.identity.conftest import point_settings_at

PASSWORD = "correct-horse-battery"


def test_demo_users_sign_in_with_a_password_in_development(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True

    response = client.post("/accounts/login/", {"username": manager.username, "password": PASSWORD, "next": "/tasks/"})

    assert response.status_code == 302
    assert response["Location"] == "/tasks/"
    assert str(client.session[SESSION_KEY]) == str(manager.pk)
    assert AuditEvent.objects.filter(action="login.succeeded", actor=manager, metadata__method="local").exists()


def test_a_wrong_demo_password_is_a_clear_error_and_audited(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True

    response = client.post("/accounts/login/", {"username": manager.username, "password": "nope-nope-nope"})

    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="bad_credentials").exists()


def test_an_offsite_next_is_ignored(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True

    response = client.post(
        "/accounts/login/", {"username": manager.username, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_in_production_a_manager_cannot_sign_in_with_a_password(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = False
    point_settings_at(settings, "http://127.0.0.1:9")

    page = client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": manager.username, "password": PASSWORD})

    assert 'name="password"' not in page.content.decode()
    assert "Sign in with SSO" in page.content.decode()
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_without_sso_configured_the_page_says_so_and_the_sso_link_goes_back(client, db, settings):
    settings.OIDC_RP_CLIENT_ID = ""

    page = client.get("/accounts/login/")
    start = client.get("/oidc/authenticate/")

    assert "Single sign-on is not configured" in page.content.decode()
    assert start.status_code == 302
    assert start["Location"] == "/accounts/login/"


def test_sso_start_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(client, db, settings):
    point_settings_at(settings, "http://127.0.0.1:9")

    response = client.get("/oidc/authenticate/?next=/tasks/")

    location = response["Location"]
    assert location.startswith("http://127.0.0.1:9/auth?")
    for parameter in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "response_type=code"):
        assert parameter in location
    assert client.session["oidc_login_next"] == "/tasks/"


def test_logout_without_sso_returns_to_the_signed_out_page(client, manager):
    client.force_login(manager)

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/accounts/logged-out/"
    assert SESSION_KEY not in client.session
    assert client.get("/accounts/logout/").status_code == 405


def test_session_cookies_are_http_only_and_same_site(settings):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False  # SessionTouchMiddleware renews it (test_capacity_guards)
