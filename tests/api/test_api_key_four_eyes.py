"""Four eyes on API keys: a new key, or a key's added scopes, take effect only when a second,
different administrator (not the key's owner) approves; the maker cannot approve; requests
expire; both steps are audited; the pending request shows on the key's admin page; removing
scopes and revoking apply at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.api.models import ApiKey, Scope
from apps.api.services import change_api_key_scopes, create_api_key, revoke_api_key
from apps.approvals.models import ChangeRequest
from apps.approvals.services import approve_change, expire_changes
from apps.core.errors import Conflict, PermissionDenied
from apps.core.models import AuditEvent
from apps.identity import roles
from tests.admin_support import admin_ready  # noqa: F401
from tests.api.conftest import approve_pending_key, issue_key, key_client, problem
from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def checker(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles=[roles.ADMINISTRATOR], username="admin.checker", is_staff=True)


def new_key(administrator, owner, scopes=(Scope.CUSTOMERS_READ,)):  # type: ignore[no-untyped-def]
    return create_api_key(
        actor=administrator,
        owner=owner,
        name="Core banking",
        scopes=list(scopes),
        expires_at=timezone.now() + dt.timedelta(days=10),
    )


def request_for(api_key: ApiKey, action: str = "api.key_issue") -> ChangeRequest:
    return ChangeRequest.objects.get(target_type="api.apikey", target_id=str(api_key.pk), action=action)


def test_a_new_key_does_nothing_until_a_second_administrator_approves(administrator, checker, manager):
    api_key, secret = new_key(administrator, manager)

    refused = key_client(secret).get("/api/v1/customers/")
    assert refused.status_code == 401
    assert problem(refused)["type"].endswith("/api-key-not-approved")
    assert "second administrator" in problem(refused)["detail"]
    change = request_for(api_key)
    assert change.status == "pending" and change.maker == administrator
    assert "Core banking" in change.summary and "customers:read" in change.summary

    approve_change(checker=checker, change=change)

    assert key_client(secret).get("/api/v1/customers/").status_code == 200
    api_key.refresh_from_db()
    assert api_key.approved_by == checker and api_key.approved_at is not None
    actions = list(
        AuditEvent.objects.filter(action__in=["api_key.created", "change_request.proposed", "change_request.approved"])
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("api_key.created", administrator.pk),
        ("change_request.proposed", administrator.pk),
        ("change_request.approved", checker.pk),
    ]
    approved = AuditEvent.objects.get(action="api_key.approved")
    assert approved.metadata["approved_by"] == checker.pk


def test_the_maker_cannot_approve_their_own_key(administrator, manager):
    api_key, secret = new_key(administrator, manager)

    with pytest.raises(PermissionDenied, match="second person"):
        approve_change(checker=administrator, change=request_for(api_key))

    assert key_client(secret).get("/api/v1/customers/").status_code == 401


def test_the_keys_owner_and_non_administrators_cannot_approve(administrator, manager, checker):
    owner = UserFactory(roles=[roles.ADMINISTRATOR], username="admin.owner")
    api_key, _ = new_key(administrator, owner)

    for someone in (owner, manager):
        with pytest.raises(PermissionDenied, match="not authorised"):
            approve_change(checker=someone, change=request_for(api_key))
    assert not ApiKey.objects.get(pk=api_key.pk).is_approved


def test_an_unapproved_key_request_expires_and_the_key_never_works(administrator, checker, manager):
    api_key, secret = new_key(administrator, manager)

    assert expire_changes(now=timezone.now() + dt.timedelta(days=30)) == 1

    with pytest.raises(Conflict, match="already expired"):
        approve_change(checker=checker, change=request_for(api_key))
    assert key_client(secret).get("/api/v1/customers/").status_code == 401
    assert AuditEvent.objects.filter(action="change_request.expired").count() == 1


def test_revoking_a_key_awaiting_approval_is_immediate_and_approval_then_fails(administrator, checker, manager):
    api_key, _ = new_key(administrator, manager)
    revoke_api_key(actor=administrator, api_key=api_key)

    with pytest.raises(Conflict, match="revoked"):
        approve_change(checker=checker, change=request_for(api_key))
    assert request_for(api_key).status == "pending"  # the refused approval rolled back


def test_added_scopes_wait_for_approval_removed_ones_go_at_once(administrator, checker, manager):
    api_key, secret = issue_key(manager, [Scope.CUSTOMERS_READ, Scope.HOLDINGS_READ], admin=administrator)
    client = key_client(secret)
    assert client.get("/api/v1/tasks/").status_code == 403

    change = change_api_key_scopes(
        actor=administrator, api_key=api_key, scopes=[Scope.CUSTOMERS_READ, Scope.TASKS_READ]
    )

    api_key.refresh_from_db()
    assert api_key.scopes == [Scope.CUSTOMERS_READ]  # holdings removed now, tasks not yet added
    assert client.get("/api/v1/tasks/").status_code == 403
    narrowed = AuditEvent.objects.get(action="api_key.scopes_narrowed")
    assert narrowed.metadata["removed"] == [Scope.HOLDINGS_READ]
    assert change is not None and change.action == "api.key_scopes" and "tasks:read" in change.summary
    with pytest.raises(PermissionDenied):
        approve_change(checker=administrator, change=change)

    approve_change(checker=checker, change=change)

    api_key.refresh_from_db()
    assert api_key.scopes == [Scope.CUSTOMERS_READ, Scope.TASKS_READ]
    assert client.get("/api/v1/tasks/").status_code == 200
    widened = AuditEvent.objects.get(action="api_key.scopes_widened")
    assert (widened.actor_id, widened.metadata["added"], widened.metadata["approved_by"]) == (
        administrator.pk,
        [Scope.TASKS_READ],
        checker.pk,
    )


def test_added_scopes_expire_unapplied(administrator, checker, manager):
    api_key, _ = issue_key(manager, [Scope.CUSTOMERS_READ], admin=administrator)
    change = change_api_key_scopes(
        actor=administrator, api_key=api_key, scopes=[Scope.CUSTOMERS_READ, Scope.TASKS_READ]
    )

    expire_changes(now=timezone.now() + dt.timedelta(days=30))

    with pytest.raises(Conflict):
        approve_change(checker=checker, change=change)
    assert ApiKey.objects.get(pk=api_key.pk).scopes == [Scope.CUSTOMERS_READ]


def test_admin_shows_the_pending_request_on_the_keys_page_and_proposes_added_scopes(
    client, administrator, checker, manager
):
    client.force_login(administrator)
    expires = timezone.localtime() + dt.timedelta(days=30)
    created = client.post(
        reverse("admin:api_apikey_add"),
        {
            "name": "Core banking sync",
            "owner": manager.pk,
            "scopes": [Scope.CUSTOMERS_READ],
            "expires_at_0": expires.date().isoformat(),
            "expires_at_1": expires.time().strftime("%H:%M:%S"),
        },
    )
    assert "second administrator" in created.content.decode()
    api_key = ApiKey.objects.get()
    page = client.get(reverse("admin:api_apikey_change", args=[api_key.pk])).content.decode()
    assert f"request #{request_for(api_key).pk}" in page and "Waiting for a second administrator" in page
    assert "not approved" in client.get(reverse("admin:api_apikey_changelist")).content.decode()

    approve_pending_key(api_key, checker)
    response = client.post(
        reverse("admin:api_apikey_change", args=[api_key.pk]),
        {"scopes": [Scope.CUSTOMERS_READ, Scope.TASKS_READ]},
        follow=True,
    )

    assert response.status_code == 200
    assert ApiKey.objects.get(pk=api_key.pk).scopes == [Scope.CUSTOMERS_READ]
    scopes_request = request_for(api_key, "api.key_scopes")
    assert f"Proposed (request #{scopes_request.pk})" in response.content.decode()
    page = client.get(reverse("admin:api_apikey_change", args=[api_key.pk])).content.decode()
    assert "Add scopes tasks:read" in page
