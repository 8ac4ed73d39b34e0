"""API keys in admin: the secret is shown once, only its hash is kept, revoking is audited."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.urls import reverse
from django.utils import timezone

from apps.api.models import ApiKey, Scope
from apps.core.models import AuditEvent
from tests.admin_support import admin_ready  # noqa: F401
from tests.api.conftest import approve_pending_key, issue_key, key_client


def _add(client, owner, **overrides):  # type: ignore[no-untyped-def]
    expires = timezone.localtime() + dt.timedelta(days=30)
    data = {
        "name": "Core banking sync",
        "owner": owner.pk,
        "scopes": [Scope.CUSTOMERS_READ, Scope.HOLDINGS_READ],
        "expires_at_0": expires.date().isoformat(),
        "expires_at_1": expires.time().strftime("%H:%M:%S"),
        **overrides,
    }
    return client.post(reverse("admin:api_apikey_add"), data)


def test_an_administrator_creates_a_key_and_sees_its_secret_once(client, administrator, manager):
    client.force_login(administrator)

    response = _add(client, manager)

    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    api_key = ApiKey.objects.get()
    assert secret.startswith(f"fp_{api_key.prefix}_")
    assert api_key.secret_hash == hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest()
    assert key_client(secret).get("/api/v1/customers/").status_code == 401  # until a second admin approves
    approve_pending_key(api_key)
    assert key_client(secret).get("/api/v1/customers/").status_code == 200
    detail = client.get(reverse("admin:api_apikey_change", args=[api_key.pk]))
    assert secret.split("_", 2)[2] not in detail.content.decode()
    assert AuditEvent.objects.filter(action="api_key.created").count() == 1


def test_a_scope_beyond_the_owners_role_is_refused_on_the_form(client, administrator, compliance_officer):
    client.force_login(administrator)

    response = _add(client, compliance_officer, scopes=[Scope.TASKS_WRITE])

    assert response.status_code == 200
    assert "does not allow" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_from_the_list_stops_the_key_at_once(client, administrator, manager):
    api_key, secret = issue_key(manager, [Scope.CUSTOMERS_READ], admin=administrator)
    client.force_login(administrator)

    client.post(
        reverse("admin:api_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [api_key.pk]},
    )

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    assert key_client(secret).get("/api/v1/customers/").status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoked", object_id=str(api_key.pk)).count() == 1


def test_managers_cannot_reach_api_keys_in_admin(client, manager):
    client.force_login(manager)

    response = client.get(reverse("admin:api_apikey_changelist"))

    assert response.status_code in (302, 403)
