"""SSO step-up end to end against the real provider process (tests/oidc_provider): a person signed
in by password at the IdP is refused a privileged action with a clear message and sent back to
the IdP asking for a second factor (acr_values, prompt=login, max_age=0); the IdP's new ID token
says amr/acr of a second factor, and the action then succeeds; both steps are audited."""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.urls import reverse

from apps.approvals.models import ChangeRequest
from apps.core.models import AuditEvent
from apps.customers.four_eyes import propose_pii_export
from apps.identity import roles
from apps.identity.models import User
from apps.identity.step_up import SECOND_FACTOR_SESSION_KEY
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.identity.oidc_support import FormFollowingClient, parse_forms
from tests.identity.test_sso_flow import session_of

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ACR_MFA = "urn:finpulse:test:acr:mfa"  # what tests/oidc_provider/provider.mjs says after a second factor


@pytest.fixture
def pending_export(db):  # type: ignore[no-untyped-def]
    """An export with personal data proposed by one compliance officer, waiting for a second."""
    branch = BranchFactory(code="LDN01")
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=branch, username="rm.one")
    ids = [CustomerFactory(assigned_to=manager, branch=branch).pk for _ in range(2)]
    maker = UserFactory(roles=[roles.COMPLIANCE_OFFICER], username="officer.maker")
    return propose_pii_export(actor=maker, customer_ids=ids, filters={}, reason="Regulator's sample", via="test")


def _approve_form(page):  # type: ignore[no-untyped-def]
    return next(form for form in parse_forms(page.text) if form.action.endswith("/approve/"))


def _post_approval(browser: FormFollowingClient, rp_url: str, change_id: int):  # type: ignore[no-untyped-def]
    detail_url = f"{rp_url}{reverse('approvals:detail', args=[change_id])}"
    page = browser.http.get(detail_url, timeout=10)
    form = _approve_form(page)
    return browser.http.post(
        urljoin(detail_url, form.action),
        data={**form.fields, "note": "Checked"},
        headers={"Referer": detail_url},
        allow_redirects=False,
        timeout=10,
    )


def test_sso_step_up_asks_the_idp_for_a_second_factor_and_the_action_then_succeeds(
    sso, live_server, settings, pending_export
):
    settings.FINPULSE_STEP_UP_ACR_VALUES = [ACR_MFA]
    sso.set_account(
        "emp-3001", email="grace@bank.example", name="Grace Hopper", groups=["finpulse-compliance"], mfa="on_request"
    )
    browser = FormFollowingClient()
    signed_in = browser.sso_login(live_server.url, "emp-3001", next_url="/approvals/")
    assert signed_in.status_code == 200
    assert SECOND_FACTOR_SESSION_KEY not in session_of(browser)  # a password sign-in only

    # 1. Refused: a clear message and straight to the IdP's step-up.
    refused = _post_approval(browser, live_server.url, pending_export.pk)
    assert refused.status_code == 302
    assert urlsplit(refused.headers["Location"]).path == reverse("step_up_sso")
    to_idp = browser.http.get(urljoin(refused.url, refused.headers["Location"]), allow_redirects=False, timeout=10)
    idp_url = to_idp.headers["Location"]
    assert idp_url.startswith(sso.url)
    asked = parse_qs(urlsplit(idp_url).query)
    assert asked["prompt"] == ["login"] and asked["max_age"] == ["0"] and asked["acr_values"] == [ACR_MFA]
    change = ChangeRequest.objects.get(pk=pending_export.pk)
    assert change.status == ChangeRequest.Status.PENDING

    # 2. At the IdP: sign in again; asked for it, the IdP also takes the second factor.
    back = browser.complete_provider_login(browser.http.get(idp_url, timeout=10), "emp-3001")
    assert back.status_code == 200
    assert urlsplit(back.url).path == reverse("approvals:detail", args=[pending_export.pk])
    assert "needs a recent second factor" in back.text  # the refusal's message, on the page
    assert "Second factor confirmed by the bank" in back.text
    assert session_of(browser)[SECOND_FACTOR_SESSION_KEY]["method"] == "sso"

    # 3. The same action now succeeds.
    done = _post_approval(browser, live_server.url, pending_export.pk)
    assert done.status_code == 302
    assert urlsplit(done.headers["Location"]).path == reverse("approvals:inbox")
    change.refresh_from_db()
    checker = User.objects.get(oidc_subject="emp-3001")
    assert (change.status, change.checker) == (ChangeRequest.Status.APPROVED, checker)
    verified = AuditEvent.objects.filter(action="second_factor.verified", actor=checker)
    assert [event.metadata.get("method") for event in verified] == ["sso"]
    assert AuditEvent.objects.filter(action="change_request.approved", actor=checker).count() == 1


def test_a_password_only_return_from_the_idp_does_not_step_up(sso, live_server, settings, pending_export):
    settings.FINPULSE_STEP_UP_ACR_VALUES = [ACR_MFA]
    sso.set_account("emp-3002", email="alan@bank.example", name="Alan Turing", groups=["finpulse-compliance"])
    browser = FormFollowingClient()
    browser.sso_login(live_server.url, "emp-3002", next_url="/approvals/")

    refused = _post_approval(browser, live_server.url, pending_export.pk)
    to_idp = browser.http.get(urljoin(refused.url, refused.headers["Location"]), allow_redirects=False, timeout=10)
    browser.complete_provider_login(browser.http.get(to_idp.headers["Location"], timeout=10), "emp-3002")
    again = _post_approval(browser, live_server.url, pending_export.pk)

    assert urlsplit(again.headers["Location"]).path == reverse("step_up_sso")  # still refused
    assert SECOND_FACTOR_SESSION_KEY not in session_of(browser)
    assert ChangeRequest.objects.get(pk=pending_export.pk).status == ChangeRequest.Status.PENDING
    assert not AuditEvent.objects.filter(action="second_factor.verified").exists()
