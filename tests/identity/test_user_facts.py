"""A user's roles and permissions are remembered across requests and forgotten when they change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from apps.identity import roles
from apps.identity.models import User
from tests.identity.factories import UserFactory

REVEAL = "customers.reveal_pii"


@pytest.fixture(autouse=True)
def _redis_cache(redis_url, settings):  # type: ignore[no-untyped-def]
    settings.FINPULSE_USER_FACTS_SECONDS = 60


def next_request(user: User) -> User:
    """The user as the next request loads them (a new object from the database)."""
    return User.objects.get(pk=user.pk)


def asked(user: User) -> tuple[frozenset[str], bool]:
    fresh = next_request(user)
    return fresh.role_names, fresh.has_perm(REVEAL)


def test_roles_and_permissions_are_asked_once_then_remembered(db, django_assert_num_queries):
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    asked(manager)
    fresh = next_request(manager)

    with django_assert_num_queries(0):
        assert fresh.role_names == {roles.RELATIONSHIP_MANAGER}
        assert fresh.has_perm(REVEAL)
        assert fresh.is_relationship_manager and not fresh.is_compliance_officer


def test_a_role_taken_away_is_gone_on_the_next_request(db):
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    assert asked(manager) == ({roles.RELATIONSHIP_MANAGER}, True)

    manager.groups.remove(Group.objects.get(name=roles.RELATIONSHIP_MANAGER))

    assert asked(manager) == (frozenset(), False)


def test_a_role_given_from_the_groups_side_shows_on_the_next_request(db):
    user = UserFactory()
    assert asked(user) == (frozenset(), False)

    Group.objects.get(name=roles.COMPLIANCE_OFFICER).user_set.add(user)

    assert asked(user) == ({roles.COMPLIANCE_OFFICER}, True)


def test_a_permission_taken_from_a_role_is_gone_for_all_its_members_at_once(db):
    first, second = UserFactory(roles=[roles.RELATIONSHIP_MANAGER]), UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    assert asked(first)[1] and asked(second)[1]
    group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)

    group.permissions.remove(Permission.objects.get(content_type__app_label="customers", codename="reveal_pii"))

    assert not asked(first)[1]
    assert not asked(second)[1]


def test_a_users_own_permission_and_superuser_flag_show_on_the_next_request(db):
    user = UserFactory()
    assert not asked(user)[1]

    user.user_permissions.add(Permission.objects.get(content_type__app_label="customers", codename="reveal_pii"))
    assert asked(user)[1]

    user.user_permissions.clear()
    assert not asked(user)[1]
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    assert next_request(user).is_administrator and asked(user)[1]


def test_an_inactive_user_has_no_permission_whatever_is_remembered(db):
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    assert asked(manager)[1]

    User.objects.filter(pk=manager.pk).update(is_active=False)  # no signal: the remembered entry stays

    assert not next_request(manager).has_perm(REVEAL)


def test_with_no_time_to_live_every_request_asks_the_database(db, settings, django_assert_num_queries):
    settings.FINPULSE_USER_FACTS_SECONDS = 0
    manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER])
    asked(manager)
    fresh = next_request(manager)

    with django_assert_num_queries(2):  # the user's own permissions; their roles with the roles' permissions
        assert fresh.role_names == {roles.RELATIONSHIP_MANAGER}
        assert fresh.has_perm(REVEAL)
