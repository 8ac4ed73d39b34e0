"""Step-up: a privileged action without a recent second factor is refused with a clear message
and the step-up page; with one (TOTP here, the IdP's amr/acr with SSO) it succeeds, audited."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.approvals.models import ChangeRequest
from apps.core.business_date import business_today
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.identity.step_up import SECOND_FACTOR_SESSION_KEY, STEP_UP_MESSAGE, sso_second_factor_time
from apps.products.four_eyes import propose_rate_change
from apps.products.models import ProductRate
from tests.identity.factories import UserFactory
from tests.identity.totp_support import current_code, enrol_totp, wrong_code
from tests.products.factories import ProductFactory


@pytest.fixture
def checker(db):
    return UserFactory(roles=[roles.ADMINISTRATOR], username="admin.checker", is_staff=True)


@pytest.fixture
def change(administrator):
    return propose_rate_change(
        actor=administrator,
        product=ProductFactory(code="SAVER2"),
        effective_from=business_today() + dt.timedelta(days=3),
        rate=Decimal("3.9000"),
    )


def _approve(client, change):
    detail = reverse("approvals:detail", args=[change.pk])
    return client.post(
        reverse("approvals:approve", args=[change.pk]), {"note": ""}, HTTP_REFERER=f"http://testserver{detail}"
    )


def test_approving_without_a_second_factor_is_refused_with_the_step_up_page(client, checker, change):
    client.force_login(checker)

    response = _approve(client, change)

    detail = reverse("approvals:detail", args=[change.pk])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("step_up"))
    assert "next=" + detail.replace("/", "%2F") in response["Location"]
    page = client.get(response["Location"])
    assert escape(STEP_UP_MESSAGE) in page.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.PENDING
    assert not ProductRate.objects.exists()


def test_with_a_fresh_totp_code_the_approval_succeeds_and_is_audited(client, checker, change):
    device = enrol_totp(checker)
    client.force_login(checker)
    detail = reverse("approvals:detail", args=[change.pk])

    stepped = client.post(f"{reverse('step_up')}?next={detail}", {"otp_token": current_code(device)})
    assert stepped.status_code == 302 and stepped["Location"] == detail
    response = _approve(client, change)

    assert response.status_code == 302 and response["Location"] == reverse("approvals:inbox")
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED
    assert ProductRate.objects.get().rate == Decimal("3.9000")
    assert AuditEvent.objects.filter(action="second_factor.verified", actor_id=checker.pk).count() == 1
    assert AuditEvent.objects.filter(action="change_request.approved", actor_id=checker.pk).count() == 1


def test_a_wrong_code_does_not_step_up(client, checker, change):
    device = enrol_totp(checker)
    client.force_login(checker)

    refused = client.post(reverse("step_up"), {"otp_token": wrong_code(device)})

    assert "That code is wrong" in refused.content.decode()
    assert SECOND_FACTOR_SESSION_KEY not in client.session
    assert _approve(client, change)["Location"].startswith(reverse("step_up"))
    assert AuditEvent.objects.filter(action="login.failed", metadata__method="step_up").count() == 1


def test_a_second_factor_older_than_the_window_no_longer_counts(settings, client, checker, change):
    settings.FINPULSE_STEP_UP_MAX_AGE_SECONDS = 600
    client.force_login(checker)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time() - 601, "method": "totp"}
    session.save()

    assert _approve(client, change)["Location"].startswith(reverse("step_up"))

    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time() - 30, "method": "totp"}
    session.save()
    assert _approve(client, change)["Location"] == reverse("approvals:inbox")


def test_the_maker_is_told_a_second_person_must_approve(client, administrator, change):
    client.force_login(administrator)
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = {"at": time.time(), "method": "totp"}
    session.save()

    response = _approve(client, change)

    assert response.status_code == 400
    assert "a second person must approve it" in response.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.PENDING


def test_a_stranger_gets_404_on_a_request(client, manager, change):
    client.force_login(manager)
    assert client.get(reverse("approvals:detail", args=[change.pk])).status_code == 404
    assert client.post(reverse("approvals:reject", args=[change.pk]), {"note": "no"}).status_code == 404


@pytest.mark.parametrize(
    ("claims", "proven"),
    [
        ({"amr": ["pwd", "otp"], "auth_time": 1700000000}, 1700000000.0),
        ({"amr": ["mfa"]}, "now"),
        ({"amr": ["pwd"], "auth_time": 1700000000}, None),
        ({"acr": "urn:bank:loa:high", "auth_time": 1700000000}, 1700000000.0),
        ({"acr": "urn:bank:loa:low", "auth_time": 1700000000}, None),
        ({}, None),
    ],
)
def test_the_idp_proves_a_second_factor_by_amr_or_acr(settings, claims, proven):
    settings.FINPULSE_STEP_UP_ACR_VALUES = ["urn:bank:loa:high"]
    result = sso_second_factor_time(claims)
    if proven == "now":
        assert result is not None and abs(result - time.time()) < 5
    else:
        assert result == proven
