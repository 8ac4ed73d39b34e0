"""API bearer tokens issued by the real provider, validated locally against its cached JWKS."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.identity import roles
from apps.identity.models import User
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory
from tests.identity.oidc_support import API_AUDIENCE, OTHER_AUDIENCE, FormFollowingClient

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CUSTOMERS = "/api/v1/customers/"


@pytest.fixture
def token_for(sso, live_server):  # type: ignore[no-untyped-def]
    def issue(sub: str, *, resource: str = API_AUDIENCE) -> str:
        return FormFollowingClient().access_token(
            sso, sub=sub, redirect_uri=f"{live_server.url}/test-api-client/callback", resource=resource
        )

    return issue


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_problem_401(response, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401
    assert body["detail"]
    assert AuditEvent.objects.filter(
        action="login.failed", metadata__method="api_bearer", metadata__reason=reason
    ).exists()


def test_an_access_token_from_the_provider_calls_the_api_without_asking_the_provider(sso, token_for):
    branch = BranchFactory(code="LDN01")
    sso.set_account("emp-9001", email="ivy@bank.example", name="Ivy Banks", groups=["finpulse-rm"], branch="LDN01")
    token = token_for("emp-9001")
    sso.reset_hits()

    first = bearer(token).get(CUSTOMERS)

    assert first.status_code == 200, first.content
    # The first call fetched the JWKS once; nothing else went to the provider.
    assert sso.hits() == {"/jwks": 1}
    user = User.objects.get(oidc_issuer=sso.url, oidc_subject="emp-9001")
    assert user.role_names == frozenset({roles.RELATIONSHIP_MANAGER})
    assert user.branch == branch
    customer = CustomerFactory(assigned_to=user)
    sso.reset_hits()

    for _ in range(5):
        response = bearer(token).get(CUSTOMERS)
        assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [customer.pk]
    assert sso.hits() == {}  # no userinfo, no introspection, no JWKS: validated locally


def test_api_roles_follow_the_token(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9002", email="jo@bank.example", name="Jo", groups=["finpulse-rm"], branch="LDN01")
    assert bearer(token_for("emp-9002")).get(CUSTOMERS).status_code == 200

    sso.set_account("emp-9002", email="jo@bank.example", name="Jo", groups=["finpulse-compliance"], branch="LDN01")
    assert bearer(token_for("emp-9002")).get(CUSTOMERS).status_code == 200

    user = User.objects.get(oidc_subject="emp-9002")
    assert user.role_names == frozenset({roles.COMPLIANCE_OFFICER})
    assert AuditEvent.objects.filter(action="user.roles_synced", object_id=str(user.pk)).count() == 1


def test_a_token_without_a_finpulse_role_is_refused_and_strips_the_roles(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9003", email="kim@bank.example", name="Kim", groups=["finpulse-rm"], branch="LDN01")
    assert bearer(token_for("emp-9003")).get(CUSTOMERS).status_code == 200
    sso.set_account("emp-9003", email="kim@bank.example", name="Kim", groups=[], branch="LDN01")

    response = bearer(token_for("emp-9003")).get(CUSTOMERS)

    assert_problem_401(response, "no_finpulse_role")
    assert User.objects.get(oidc_subject="emp-9003").role_names == frozenset()


def test_a_tampered_token_is_refused(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9004", email="lu@bank.example", name="Lu", groups=["finpulse-rm"], branch="LDN01")
    header, payload, signature = token_for("emp-9004").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["groups"] = ["finpulse-admin"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = bearer(f"{header}.{forged_payload}.{signature}").get(CUSTOMERS)

    assert_problem_401(response, "bad_signature")
    assert not User.objects.filter(oidc_subject="emp-9004", groups__name=roles.ADMINISTRATOR).exists()


def test_a_token_signed_by_another_key_under_the_providers_key_id_is_refused(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9005", email="mo@bank.example", name="Mo", groups=["finpulse-rm"], branch="LDN01")
    genuine = token_for("emp-9005")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    kid = jwt.get_unverified_header(genuine)["kid"]
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    forged = jwt.encode({**claims, "groups": ["finpulse-admin"]}, attacker_key, algorithm="RS256", headers={"kid": kid})

    assert_problem_401(bearer(forged).get(CUSTOMERS), "bad_signature")


def test_an_unknown_key_id_refreshes_the_jwks_once_then_is_refused_without_asking_again(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9006", email="ny@bank.example", name="Ny", groups=["finpulse-rm"], branch="LDN01")
    claims = jwt.decode(token_for("emp-9006"), options={"verify_signature": False})
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sso.reset_hits()

    for kid in ("rogue-1", "rogue-2", "rogue-3"):
        forged = jwt.encode(claims, attacker_key, algorithm="RS256", headers={"kid": kid})
        assert_problem_401(bearer(forged).get(CUSTOMERS), "unknown_key")

    # One fetch for the first unknown key id; the others are within the refresh rate limit.
    assert sso.hits() == {"/jwks": 1}


def test_an_expired_token_is_refused(sso, token_for, settings):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9007", email="ol@bank.example", name="Ol", groups=["finpulse-rm"], branch="LDN01")
    sso.set_access_token_ttl(1)
    token = token_for("emp-9007")
    settings.OIDC_API_LEEWAY_SECONDS = 0
    time.sleep(2.1)

    response = bearer(token).get(CUSTOMERS)

    assert_problem_401(response, "expired")
    assert "expired" in response.json()["detail"]


def test_a_token_for_another_audience_is_refused(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9008", email="pa@bank.example", name="Pa", groups=["finpulse-rm"], branch="LDN01")

    response = bearer(token_for("emp-9008", resource=OTHER_AUDIENCE)).get(CUSTOMERS)

    assert_problem_401(response, "wrong_audience")


def test_a_garbage_bearer_token_is_a_401_not_a_500(sso):
    assert_problem_401(bearer("not.a.jwt").get(CUSTOMERS), "malformed")


def test_a_deactivated_users_token_is_refused(sso, token_for):
    BranchFactory(code="LDN01")
    sso.set_account("emp-9009", email="qi@bank.example", name="Qi", groups=["finpulse-rm"], branch="LDN01")
    token = token_for("emp-9009")
    assert bearer(token).get(CUSTOMERS).status_code == 200
    User.objects.filter(oidc_subject="emp-9009").update(is_active=False)

    assert_problem_401(bearer(token).get(CUSTOMERS), "account_disabled")
