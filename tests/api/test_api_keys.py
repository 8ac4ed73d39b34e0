"""API keys: shown once, stored hashed, scoped, expiring, revocable, attributable."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest
from django.utils import timezone

from apps.api.models import ApiKey, Scope
from apps.api.services import create_api_key, revoke_api_key
from apps.core.errors import DomainError, PermissionDenied
from apps.core.models import AuditEvent
from tests.api.conftest import issue_key, key_client, problem
from tests.customers.factories import CustomerFactory


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(manager, administrator):
    api_key, secret = create_api_key(
        actor=administrator,
        owner=manager,
        name="Core banking",
        scopes=[Scope.CUSTOMERS_READ],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )

    prefix, _, raw = secret.removeprefix("fp_").partition("_")
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert stored.prefix == prefix
    assert stored.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.filter(pk=api_key.pk).values().get())
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.metadata["prefix"] == prefix
    assert raw not in str(event.metadata)


def test_only_an_administrator_creates_keys(manager):
    with pytest.raises(PermissionDenied):
        create_api_key(
            actor=manager,
            owner=manager,
            name="Mine",
            scopes=[Scope.CUSTOMERS_READ],
            expires_at=timezone.now() + dt.timedelta(days=1),
        )


def test_a_key_cannot_carry_a_scope_its_owners_role_lacks(compliance_officer, administrator):
    with pytest.raises(DomainError) as error:
        create_api_key(
            actor=administrator,
            owner=compliance_officer,
            name="Reports",
            scopes=[Scope.CUSTOMERS_READ, Scope.TASKS_WRITE],
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
    assert error.value.field == "scopes"


def test_a_key_reads_what_its_owner_sees(manager, other_manager):
    mine = CustomerFactory(assigned_to=manager)
    CustomerFactory(assigned_to=other_manager)
    _, secret = issue_key(manager, [Scope.CUSTOMERS_READ])

    response = key_client(secret).get("/api/v1/customers/")

    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_a_key_outside_its_scope_is_a_403(manager):
    _, secret = issue_key(manager, [Scope.CUSTOMERS_READ])

    response = key_client(secret).get("/api/v1/tasks/")

    assert response.status_code == 403
    assert "tasks:read" in problem(response)["detail"]


@pytest.mark.parametrize(
    ("change", "code"),
    [("expire", "api-key-expired"), ("revoke", "api-key-revoked"), ("wrong_secret", "invalid-api-key")],
)
def test_an_expired_revoked_or_wrong_key_is_a_401(manager, administrator, change, code):
    api_key, secret = issue_key(manager, [Scope.CUSTOMERS_READ])
    if change == "expire":
        ApiKey.objects.filter(pk=api_key.pk).update(
            created_at=timezone.now() - dt.timedelta(days=2), expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    elif change == "revoke":
        revoke_api_key(actor=administrator, api_key=api_key, reason="Leaked in a log")
    else:
        secret = secret[:-4] + "AAAA"

    response = key_client(secret).get("/api/v1/customers/")

    assert response.status_code == 401
    assert problem(response)["type"].endswith(f"/{code}")
    assert response["WWW-Authenticate"].startswith("ApiKey")


def test_no_credentials_is_a_401_with_a_challenge(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/customers/")

    assert response.status_code == 401
    assert problem(response)["type"].endswith("/not-authenticated")
    assert "ApiKey" in response["WWW-Authenticate"]


def test_a_demoted_owner_shrinks_the_key_at_once(manager):
    _, secret = issue_key(manager, [Scope.TASKS_WRITE, Scope.TASKS_READ])
    manager.groups.clear()

    response = key_client(secret).get("/api/v1/tasks/")

    assert response.status_code == 403


def test_last_use_is_recorded_at_most_once_a_minute(manager):
    api_key, secret = issue_key(manager, [Scope.CUSTOMERS_READ])
    client = key_client(secret)

    client.get("/api/v1/customers/")
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    client.get("/api/v1/customers/")
    second = ApiKey.objects.get(pk=api_key.pk).last_used_at

    assert first is not None
    assert second == first


def test_every_write_with_a_key_is_attributed_to_it(manager):
    customer = CustomerFactory(assigned_to=manager)
    api_key, secret = issue_key(manager)

    response = key_client(secret).post(
        "/api/v1/tasks/",
        {"customer": customer.pk, "title": "Call", "due_at": "2030-01-01T09:00:00Z"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_X_REQUEST_ID="req-attribution-1",
    )

    assert response.status_code == 201
    created = AuditEvent.objects.get(action="task.created")
    used = AuditEvent.objects.get(action="api_key.used")
    assert created.request_id == used.request_id == "req-attribution-1"
    assert used.metadata["prefix"] == api_key.prefix
    assert used.actor_id == manager.pk


def test_reads_do_not_write_audit_events(manager):
    CustomerFactory(assigned_to=manager)
    _, secret = issue_key(manager, [Scope.CUSTOMERS_READ])
    before = AuditEvent.objects.count()

    key_client(secret).get("/api/v1/customers/")

    assert AuditEvent.objects.count() == before
