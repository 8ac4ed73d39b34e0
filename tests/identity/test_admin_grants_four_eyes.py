"""Access given in Django admin is four-eyes (issue 19, "permission grants"): adding a group, a
permission, staff or superuser status to a person, or a permission to a group, is proposed and
applies only when a second administrator approves; the maker, the person gaining the access and
members of the group gaining it cannot approve; removals apply at once; everything is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change
from apps.core.errors import Conflict, PermissionDenied
from apps.core.models import AuditEvent
from apps.identity import roles
from apps.identity.models import User
from tests.admin_support import admin_ready, management_data  # noqa: F401
from tests.identity.factories import UserFactory

GRANT = "identity.access_grant"


@pytest.fixture
def second_administrator(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.ADMINISTRATOR], username="admin.two", is_staff=True)


def _post_user_form(client, user: User, **changes: object):  # type: ignore[no-untyped-def]
    """Post the person's admin change form as a browser would, with `changes` applied."""
    url = reverse("admin:identity_user_change", args=[user.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data: dict[str, object] = management_data(page)
    for field in form:
        value = field.value()
        if field.name in ("password",):
            continue
        if isinstance(value, (list, tuple)):
            data[field.html_name] = [str(v) for v in value]
        elif value is True:
            data[field.html_name] = "on"
        elif value not in (None, False):
            data[field.html_name] = value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return response


def test_adding_a_group_in_admin_is_proposed_and_applies_on_a_second_administrators_approval(
    client, administrator, second_administrator, manager
):
    compliance = Group.objects.get(name=roles.COMPLIANCE_OFFICER)
    client.force_login(administrator)
    groups = [str(pk) for pk in manager.groups.values_list("pk", flat=True)] + [str(compliance.pk)]

    _post_user_form(client, manager, groups=groups)

    change = ChangeRequest.objects.get(action=GRANT)
    assert not manager.groups.filter(pk=compliance.pk).exists()  # nothing before approval
    page = client.get(reverse("admin:identity_user_change", args=[manager.pk])).content.decode()
    assert "Waiting for a second administrator" in page  # where it will apply
    with pytest.raises(PermissionDenied, match="second person"):
        approve_change(checker=administrator, change=change)

    approve_change(checker=second_administrator, change=change)

    assert manager.groups.filter(pk=compliance.pk).exists()
    event = AuditEvent.objects.get(action="user.access_granted")
    assert (event.actor, event.metadata["groups"]) == (administrator, [roles.COMPLIANCE_OFFICER])


def test_the_person_gaining_the_access_cannot_approve_it(client, administrator, second_administrator):
    client.force_login(administrator)

    _post_user_form(client, second_administrator, is_superuser="on")

    change = ChangeRequest.objects.get(action=GRANT)
    second_administrator.refresh_from_db()
    assert not second_administrator.is_superuser
    with pytest.raises(PermissionDenied, match="not authorised"):
        approve_change(checker=second_administrator, change=change)
    second_administrator.refresh_from_db()
    assert not second_administrator.is_superuser


def test_removing_a_group_applies_at_once_and_is_audited(client, administrator, manager):
    client.force_login(administrator)

    _post_user_form(client, manager, groups=[])

    assert not manager.groups.exists()
    assert not ChangeRequest.objects.exists()
    event = AuditEvent.objects.get(action="user.access_revoked")
    assert (event.actor, event.metadata["groups"]) == (administrator, [roles.RELATIONSHIP_MANAGER])


def _add_group_permission(client, group: Group, permission: Permission):  # type: ignore[no-untyped-def]
    current = [str(pk) for pk in group.permissions.values_list("pk", flat=True)]
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]), {"permissions": [*current, str(permission.pk)]}
    )
    assert response.status_code == 302
    return ChangeRequest.objects.get(action=GRANT, target_type="auth.group", target_id=str(group.pk))


def test_a_permission_added_to_a_group_is_proposed_and_applies_once_approved(
    client, administrator, second_administrator
):
    group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)
    permission = Permission.objects.get(codename="view_all_customers")
    client.force_login(administrator)

    change = _add_group_permission(client, group, permission)

    assert not group.permissions.filter(pk=permission.pk).exists()
    assert (
        "Waiting for a second administrator"
        in client.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode()
    )
    approve_change(checker=second_administrator, change=change)
    assert group.permissions.filter(pk=permission.pk).exists()
    assert AuditEvent.objects.get(action="group.permissions_granted").actor == administrator


def test_a_member_of_the_group_cannot_approve_its_new_permission(client, administrator):
    group = Group.objects.get(name=roles.COMPLIANCE_OFFICER)
    permission = Permission.objects.exclude(group=group).order_by("pk").first()
    member = UserFactory(roles=[roles.ADMINISTRATOR, roles.COMPLIANCE_OFFICER], username="admin.officer", is_staff=True)
    client.force_login(administrator)

    change = _add_group_permission(client, group, permission)

    with pytest.raises(PermissionDenied, match="not authorised"):
        approve_change(checker=member, change=change)
    assert not group.permissions.filter(pk=permission.pk).exists()


def test_a_group_keeps_its_name_in_admin(client, administrator):
    group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)
    client.force_login(administrator)

    client.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": "Renamed", "permissions": []})

    assert Group.objects.get(pk=group.pk).name == roles.RELATIONSHIP_MANAGER


def test_a_grant_expires_without_applying(client, administrator, second_administrator, manager):
    client.force_login(administrator)
    _post_user_form(client, manager, is_staff="on")
    change = ChangeRequest.objects.get(action=GRANT)
    ChangeRequest.objects.filter(pk=change.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(Conflict, match="expired"):
        approve_change(checker=second_administrator, change=change)

    manager.refresh_from_db()
    assert not manager.is_staff
