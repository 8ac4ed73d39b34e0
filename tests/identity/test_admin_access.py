"""Who is in Django admin (docs/decisions.md 37): administrators only, set at every SSO sign-in
and for accounts that existed before the decision."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from apps.identity import roles
from apps.identity.claims import MappedIdentity
from apps.identity.services import sync_user_from_identity
from tests.identity.factories import UserFactory


def _identity(subject: str, *role_names: str) -> MappedIdentity:
    return MappedIdentity(
        issuer="https://sso.bank.example",
        subject=subject,
        email=f"{subject}@bank.example",
        first_name="Sam",
        last_name="Example",
        username_hint=subject,
        roles=frozenset(role_names),
        branch_code=None,
        provider_values=tuple(role_names),
    )


@pytest.mark.parametrize(
    ("role_names", "staff"),
    [
        ((roles.RELATIONSHIP_MANAGER,), False),
        ((roles.BRANCH_MANAGER,), False),
        ((roles.COMPLIANCE_OFFICER,), False),
        ((roles.ADMINISTRATOR,), True),
        ((roles.COMPLIANCE_OFFICER, roles.ADMINISTRATOR), True),
    ],
)
def test_sso_sign_in_makes_only_administrators_staff(db, role_names, staff):
    user = sync_user_from_identity(identity=_identity("emp-1", *role_names), source="test")

    assert user.is_staff is staff


def test_a_compliance_officer_who_was_staff_loses_it_at_the_next_sign_in(db):
    user = sync_user_from_identity(identity=_identity("emp-2", roles.COMPLIANCE_OFFICER), source="test")
    user.is_staff = True  # as the earlier rule left compliance officers
    user.save(update_fields=["is_staff"])

    user = sync_user_from_identity(identity=_identity("emp-2", roles.COMPLIANCE_OFFICER), source="test")

    assert user.is_staff is False


def test_the_migration_takes_staff_away_from_everyone_but_administrators(db):
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], is_staff=True)
    compliance = UserFactory(roles=[roles.COMPLIANCE_OFFICER], is_staff=True)
    administrator = UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    migration = importlib.import_module("apps.identity.migrations.0003_admin_is_for_administrators")

    migration.staff_is_administrators_only(django_apps, None)

    for user, staff in ((manager, False), (compliance, False), (administrator, True), (superuser, True)):
        user.refresh_from_db()
        assert user.is_staff is staff, user.username
