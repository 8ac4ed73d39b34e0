"""One real browser journey: Chromium signs a manager in through the provider's pages."""

from __future__ import annotations

import pytest

from apps.identity import roles
from apps.identity.models import User
from tests.identity.factories import BranchFactory

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_manager_signs_in_with_sso_in_a_real_browser(sso, live_server, chromium):
    branch = BranchFactory(code="BRS01", name="Bristol")
    sso.set_account("emp-4242", email="tess@bank.example", name="Tess Teller", groups=["finpulse-rm"], branch="BRS01")

    page = chromium.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/customers/")
    page.click("#sso-sign-in")
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", "emp-4242")
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]")  # the consent page
    if "/interaction/" in page.url:
        page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/customers/**")
    header = page.inner_text("header")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies(live_server.url)}

    assert "Tess Teller" in header
    assert cookies["sessionid"]["httpOnly"] is True
    assert cookies["sessionid"]["sameSite"] == "Lax"
    user = User.objects.get(oidc_issuer=sso.url, oidc_subject="emp-4242")
    assert user.role_names == frozenset({roles.RELATIONSHIP_MANAGER})
    assert user.branch == branch
