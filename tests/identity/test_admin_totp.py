"""With FINPULSE_ADMIN_REQUIRE_TOTP, staff reach the admin only with a verified TOTP device."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.identity import roles
from tests.identity.factories import UserFactory
from tests.identity.totp_support import current_code, enrol_totp

OIDC_BACKEND = "apps.identity.backends.FinPulseOIDCBackend"


@pytest.fixture(autouse=True)
def _require_totp(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = True


@pytest.fixture
def staff_admin(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.ADMINISTRATOR], username="staff.admin", is_staff=True)


def test_a_staff_user_without_totp_cannot_reach_the_admin(client, staff_admin):
    client.force_login(staff_admin, backend=OIDC_BACKEND)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"].startswith(reverse("two_factor"))


def test_a_staff_user_with_an_unconfirmed_device_cannot_reach_the_admin(client, staff_admin):
    enrol_totp(staff_admin, confirmed=False)
    client.force_login(staff_admin, backend=OIDC_BACKEND)

    page = client.get(reverse("two_factor"))

    assert "no confirmed authenticator app" in page.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_an_sso_administrator_reaches_the_admin_after_the_totp_step(client, staff_admin):
    device = enrol_totp(staff_admin)
    client.force_login(staff_admin, backend=OIDC_BACKEND)

    step = client.post(f"{reverse('two_factor')}?next=/admin/", {"otp_token": current_code(device)})

    assert step.status_code == 302
    assert step["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_login_form_is_not_a_second_password_door(client, db):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_without_the_requirement_demo_staff_reach_the_admin(client, staff_admin, settings):
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    client.force_login(staff_admin)

    assert client.get(reverse("admin:index")).status_code == 200
