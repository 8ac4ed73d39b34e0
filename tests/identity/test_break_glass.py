"""Break-glass sign-in: administrators only, password + TOTP, axes lockout, always audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.identity import roles
from tests.identity.factories import UserFactory
from tests.identity.totp_support import current_code, enrol_totp, wrong_code

PASSWORD = "correct-horse-battery"  # tests.identity.factories.UserFactory's password
URL = "/accounts/break-glass/"


@pytest.fixture
def admin_with_totp(db):  # type: ignore[no-untyped-def]
    admin = UserFactory(roles=[roles.ADMINISTRATOR], username="root.admin", is_staff=True)
    return admin, enrol_totp(admin)


def post(client, username: str, password: str, code: str):  # type: ignore[no-untyped-def]
    return client.post(URL, {"username": username, "password": password, "otp_token": code})


def test_an_administrator_signs_in_with_password_and_totp_and_it_is_audited(client, admin_with_totp):
    admin, device = admin_with_totp

    response = post(client, admin.username, PASSWORD, current_code(device))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert str(client.session[SESSION_KEY]) == str(admin.pk)
    event = AuditEvent.objects.get(action="login.break_glass")
    assert event.actor == admin
    assert event.metadata["method"] == "break_glass"


def test_a_manager_with_the_right_password_cannot_use_break_glass(client, manager):
    enrol_totp(manager)  # even with a device: the door is for administrators

    response = post(client, manager.username, PASSWORD, "123456")

    assert response.status_code == 200
    assert "for administrators only" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="not_administrator").count() == 1


def test_a_branch_manager_cannot_use_break_glass(client, branch_manager):
    response = post(client, branch_manager.username, PASSWORD, "123456")

    assert "for administrators only" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_an_administrator_without_a_totp_device_is_refused(client, administrator):
    response = post(client, administrator.username, PASSWORD, "123456")

    assert "no confirmed authenticator app" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="no_totp_device").exists()


def test_a_wrong_totp_code_is_refused(client, admin_with_totp):
    admin, device = admin_with_totp

    response = post(client, admin.username, PASSWORD, wrong_code(device))

    assert "wrong or has expired" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="login.failed", metadata__reason="bad_totp").exists()


def test_locked_out_after_five_failed_logins(client, admin_with_totp, settings):
    admin, device = admin_with_totp
    assert settings.AXES_FAILURE_LIMIT == 5

    statuses = [post(client, admin.username, "wrong-password-123", "000000").status_code for _ in range(5)]
    after = post(client, admin.username, PASSWORD, current_code(device))

    assert statuses[:4] == [200, 200, 200, 200]
    assert statuses[4] == 429  # the fifth failure locks the account out
    assert after.status_code == 429
    assert "Too many failed sign-ins" in after.content.decode()
    assert SESSION_KEY not in client.session
    assert not AuditEvent.objects.filter(action="login.break_glass").exists()
    assert AuditEvent.objects.filter(action="login.failed", metadata__method="break_glass").count() == 6


def test_wrong_totp_codes_count_towards_the_lockout(client, admin_with_totp):
    admin, device = admin_with_totp

    for _ in range(5):
        post(client, admin.username, PASSWORD, wrong_code(device))
    after = post(client, admin.username, PASSWORD, current_code(device))

    assert after.status_code == 429
    assert SESSION_KEY not in client.session


def test_the_lockout_is_per_username(client, admin_with_totp):
    admin, device = admin_with_totp
    for _ in range(5):
        post(client, "someone.else", "wrong-password-123", "000000")

    response = post(client, admin.username, PASSWORD, current_code(device))

    assert response.status_code == 302


def test_a_form_without_a_code_is_a_clear_error_not_a_500(client, admin_with_totp):
    admin, _ = admin_with_totp

    response = client.post(URL, {"username": admin.username, "password": PASSWORD, "otp_token": "abc"})

    assert response.status_code == 200
    assert "6-digit code" in response.content.decode()


def test_enrol_totp_prints_a_url_and_replaces_the_old_device(administrator, capsys):
    from django.core.management import call_command
    from django_otp.plugins.otp_totp.models import TOTPDevice

    old = enrol_totp(administrator)

    call_command("enrol_totp", administrator.username)

    assert capsys.readouterr().out.startswith("otpauth://totp/")
    assert list(
        TOTPDevice.objects.filter(user=administrator).exclude(pk=old.pk).values_list("confirmed", flat=True)
    ) == [True]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(action="totp.enrolled").count() == 1


def test_enrol_totp_refuses_someone_without_a_role(db):
    from django.core.management import CommandError, call_command

    nobody = UserFactory(roles=[])
    with pytest.raises(CommandError, match="Only staff"):
        call_command("enrol_totp", nobody.username)


def test_enrol_totp_gives_a_manager_a_device_for_step_up(manager):
    from django.core.management import call_command

    manager.is_staff = False  # as SSO leaves a relationship manager
    manager.save(update_fields=["is_staff"])
    call_command("enrol_totp", manager.username)

    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert TOTPDevice.objects.filter(user=manager, confirmed=True).count() == 1
