"""The whole authorization code flow against the real provider process, through its HTML forms."""

from __future__ import annotations

from importlib import import_module
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase

from apps.core.models import AuditEvent
from apps.customers.visibility import may_edit_customers
from apps.identity import roles
from apps.identity.models import User
from tests.identity.factories import BranchFactory
from tests.identity.oidc_support import FormFollowingClient

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def session_of(client: FormFollowingClient) -> SessionBase:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=client.http.cookies.get("sessionid"))


def test_code_flow_signs_a_manager_in_with_groups_and_branch(sso, live_server):
    branch = BranchFactory(code="LDN01")
    sso.set_account("emp-1001", email="ada@bank.example", name="Ada Lovelace", groups=["finpulse-rm"], branch="LDN01")

    browser = FormFollowingClient()
    final = browser.sso_login(live_server.url, "emp-1001", next_url="/customers/")

    assert final.status_code == 200
    assert urlsplit(final.url).path == "/customers/"
    user = User.objects.get(oidc_issuer=sso.url, oidc_subject="emp-1001")
    assert user.role_names == frozenset({roles.RELATIONSHIP_MANAGER})
    assert user.branch == branch
    assert (user.email, user.first_name, user.last_name) == ("ada@bank.example", "Ada", "Lovelace")
    assert not user.has_usable_password()
    session = session_of(browser)
    assert str(session[SESSION_KEY]) == str(user.pk)
    assert session["oidc_id_token"]  # kept for RP-initiated logout
    assert AuditEvent.objects.filter(action="login.succeeded", actor=user, metadata__method="sso").count() == 1
    # PKCE, state and nonce were all used (the provider requires PKCE; state and nonce are ours).
    assert session.get("oidc_states") == {}


def test_a_user_is_matched_on_issuer_and_subject_never_on_email(sso, live_server):
    BranchFactory(code="LDN01")
    squatter = User.objects.create_user("someone.else", email="ada@bank.example")
    sso.set_account("emp-2002", email="ada@bank.example", name="Ada L", groups=["finpulse-rm"], branch="LDN01")

    FormFollowingClient().sso_login(live_server.url, "emp-2002")

    sso_user = User.objects.get(oidc_subject="emp-2002")
    assert sso_user.pk != squatter.pk
    squatter.refresh_from_db()
    assert squatter.oidc_subject == ""
    assert squatter.groups.count() == 0


def test_a_second_login_after_the_role_is_removed_leaves_no_access(sso, live_server):
    BranchFactory(code="LDN01")
    sso.set_account("emp-3003", email="bo@bank.example", name="Bo Manager", groups=["finpulse-bm"], branch="LDN01")
    FormFollowingClient().sso_login(live_server.url, "emp-3003")
    user = User.objects.get(oidc_subject="emp-3003")
    assert user.is_branch_manager

    sso.set_account("emp-3003", email="bo@bank.example", name="Bo Manager", groups=["other-app-user"], branch="LDN01")
    browser = FormFollowingClient()
    refused = browser.sso_login(live_server.url, "emp-3003")

    assert refused.status_code == 403
    assert "no FinPulse role" in refused.text
    user = User.objects.get(pk=user.pk)
    assert user.role_names == frozenset()
    assert not may_edit_customers(user)
    # The refusal is on the record; the old role is not used again.
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="no_finpulse_role").count() == 1
    assert SESSION_KEY not in session_of(browser)
    assert browser.http.get(f"{live_server.url}/customers/", allow_redirects=False).status_code == 302


def test_roles_are_resynced_at_every_login(sso, live_server):
    BranchFactory(code="LDN01")
    BranchFactory(code="MAN01")
    sso.set_account(
        "emp-4004", email="cy@bank.example", name="Cy", groups=["finpulse-rm", "finpulse-bm"], branch="LDN01"
    )
    FormFollowingClient().sso_login(live_server.url, "emp-4004")

    sso.set_account("emp-4004", email="cy@bank.example", name="Cy", groups=["finpulse-rm"], branch="MAN01")
    FormFollowingClient().sso_login(live_server.url, "emp-4004")

    user = User.objects.get(oidc_subject="emp-4004")
    assert user.role_names == frozenset({roles.RELATIONSHIP_MANAGER})
    assert user.branch.code == "MAN01"
    synced = AuditEvent.objects.get(action="user.roles_synced", object_id=str(user.pk))
    assert synced.changes["roles"] == [[roles.BRANCH_MANAGER, roles.RELATIONSHIP_MANAGER], [roles.RELATIONSHIP_MANAGER]]


def test_an_unknown_role_claim_is_refused_with_a_page_and_no_account(sso, live_server):
    sso.set_account("emp-5005", email="dee@bank.example", name="Dee", groups=["payroll-viewer"])

    refused = FormFollowingClient().sso_login(live_server.url, "emp-5005")

    assert refused.status_code == 403
    assert "You have no FinPulse role" in refused.text
    assert "payroll-viewer" in refused.text
    assert not User.objects.filter(oidc_subject="emp-5005").exists()
    event = AuditEvent.objects.get(action="login.failed")
    assert event.metadata["reason"] == "no_finpulse_role"
    assert event.metadata["subject"] == "emp-5005"


def test_an_unknown_branch_is_refused(sso, live_server):
    sso.set_account("emp-5006", email="ed@bank.example", name="Ed", groups=["finpulse-rm"], branch="NOWHERE")

    refused = FormFollowingClient().sso_login(live_server.url, "emp-5006")

    assert refused.status_code == 403
    assert "NOWHERE" in refused.text
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="unknown_branch").exists()


def test_a_wrong_state_is_refused_with_a_clear_page(sso, live_server):
    BranchFactory(code="LDN01")
    sso.set_account("emp-6006", email="fe@bank.example", name="Fe", groups=["finpulse-rm"], branch="LDN01")
    browser = FormFollowingClient()
    start = browser.http.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False, timeout=10)
    browser._sub = "emp-6006"
    callback = browser.follow_until(start, f"{live_server.url}/oidc/callback/")
    query = parse_qs(urlsplit(callback).query)

    forged = browser.http.get(
        f"{live_server.url}/oidc/callback/", params={"code": query["code"][0], "state": "not-the-state"}, timeout=10
    )

    assert forged.status_code == 403
    assert "does not match a sign-in started here" in forged.text
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="state_mismatch").exists()
    assert not User.objects.filter(oidc_subject="emp-6006").exists()


def test_a_wrong_nonce_is_refused(sso, live_server):
    BranchFactory(code="LDN01")
    sso.set_account("emp-7007", email="gi@bank.example", name="Gi", groups=["finpulse-rm"], branch="LDN01")
    browser = FormFollowingClient()
    start = browser.http.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False, timeout=10)
    # The nonce the browser's session expects is not the one the provider will put in the ID token.
    session = session_of(browser)
    states = session["oidc_states"]
    for entry in states.values():
        entry["nonce"] = "a-different-nonce"
    session["oidc_states"] = states
    session.save()

    browser._sub = "emp-7007"
    callback = browser.follow_until(start, f"{live_server.url}/oidc/callback/")
    refused = browser.http.get(callback, timeout=10)

    assert refused.status_code == 403
    assert "does not belong to this sign-in" in refused.text
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="nonce_mismatch").exists()
    assert not User.objects.filter(oidc_subject="emp-7007").exists()


def test_logout_ends_the_finpulse_session_and_the_providers(sso, live_server):
    BranchFactory(code="LDN01")
    sso.set_account("emp-8008", email="hu@bank.example", name="Hu", groups=["finpulse-rm"], branch="LDN01")
    browser = FormFollowingClient()
    browser.sso_login(live_server.url, "emp-8008")
    page = browser.http.get(f"{live_server.url}/accounts/login/", timeout=10)
    csrf = browser.http.cookies.get("csrftoken")

    to_provider = browser.http.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=10,
    )

    assert to_provider.status_code == 302
    location = to_provider.headers["Location"]
    assert location.startswith(f"{sso.url}/session/end?")
    assert parse_qs(urlsplit(location).query)["id_token_hint"][0].count(".") == 2
    assert SESSION_KEY not in session_of(browser)
    # The provider asks to confirm, then returns to FinPulse's signed-out page.
    confirm = browser.http.get(location, timeout=10)
    signed_out = browser.submit(confirm, {"logout": "yes"})
    assert signed_out.url == f"{live_server.url}/accounts/logged-out/"
    assert "You are signed out" in signed_out.text
    # The provider session is gone too: signing in again asks for the login form.
    again = browser.http.get(f"{live_server.url}/oidc/authenticate/", timeout=10)
    assert 'name="login"' in again.text
    assert AuditEvent.objects.filter(action="session.ended", metadata__reason="logout").count() == 1


def expire_sso_check(browser: FormFollowingClient) -> None:
    session = session_of(browser)
    session["oidc_id_token_expiration"] = 0
    session.save()


def test_a_silent_refresh_resyncs_roles_and_returns_to_the_page(sso, live_server):
    BranchFactory(code="LDN01")
    sso.set_account("emp-8101", email="ro@bank.example", name="Ro", groups=["finpulse-rm"], branch="LDN01")
    browser = FormFollowingClient()
    browser.sso_login(live_server.url, "emp-8101")
    sso.set_account("emp-8101", email="ro@bank.example", name="Ro", groups=["finpulse-bm"], branch="LDN01")
    expire_sso_check(browser)

    page = browser.http.get(f"{live_server.url}/customers/", timeout=10)

    assert page.status_code == 200
    assert urlsplit(page.url).path == "/customers/"
    user = User.objects.get(oidc_subject="emp-8101")
    assert user.role_names == frozenset({roles.BRANCH_MANAGER})
    assert AuditEvent.objects.filter(action="login.succeeded", metadata__method="sso_refresh").count() == 1
    assert session_of(browser)["oidc_id_token_expiration"] > 0


def test_a_silent_refresh_after_the_role_is_removed_ends_the_session(sso, live_server):
    BranchFactory(code="LDN01")
    sso.set_account("emp-8102", email="sa@bank.example", name="Sa", groups=["finpulse-rm"], branch="LDN01")
    browser = FormFollowingClient()
    browser.sso_login(live_server.url, "emp-8102")
    sso.set_account("emp-8102", email="sa@bank.example", name="Sa", groups=[], branch="LDN01")
    expire_sso_check(browser)

    page = browser.http.get(f"{live_server.url}/customers/", timeout=10)

    assert page.status_code == 403
    assert "no FinPulse role" in page.text
    assert SESSION_KEY not in session_of(browser)
    assert User.objects.get(oidc_subject="emp-8102").role_names == frozenset()
    assert AuditEvent.objects.filter(action="session.ended", metadata__reason="sso_refresh_no_finpulse_role").exists()


def test_cancelling_at_the_provider_is_a_clear_refusal(sso, live_server):
    import re
    from urllib.parse import urljoin

    browser = FormFollowingClient()
    login_page = browser.http.get(f"{live_server.url}/oidc/authenticate/", timeout=10)
    abort = re.search(r'href="([^"]*/abort)"', login_page.text)
    assert abort, login_page.text[:500]

    page = browser.http.get(urljoin(login_page.url, abort.group(1)), timeout=10)

    assert page.status_code == 403
    assert "did not sign you in" in page.text
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="provider_error_access_denied").exists()
