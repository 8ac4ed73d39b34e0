"""The signed-in user's row, read on every request by a statement compiled once (decision 161).

It must be the row the ORM reads, and never kept across requests: a user deactivated by any
write (the model, a queryset update) loses their session on their next request, whichever
backend signed them in.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.identity.backends import FinPulseModelBackend, FinPulseOIDCBackend, signed_in_user
from apps.identity.models import User
from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db

OIDC_BACKEND = "apps.identity.backends.FinPulseOIDCBackend"


def as_stored(user: User) -> dict[str, object]:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_the_compiled_read_is_the_row_the_orm_reads_in_one_query(manager, branch):
    manager.last_login = timezone.now() - dt.timedelta(hours=3)
    manager.oidc_issuer, manager.oidc_subject, manager.phone = "https://sso.bank.example", "sub-1", "+44 20 7946 0000"
    manager.save()
    other = UserFactory(branch=None, is_superuser=True)

    for user in (manager, other):
        with CaptureQueriesContext(connection) as captured:
            compiled = signed_in_user(user.pk)
        orm = User._default_manager.get(pk=user.pk)

        assert len(captured.captured_queries) == 1
        assert type(compiled) is User
        assert as_stored(compiled) == as_stored(orm)
        assert (compiled._state.db, compiled._state.adding) == (orm._state.db, orm._state.adding)
    compiled, orm = signed_in_user(manager.pk), User._default_manager.get(pk=manager.pk)
    assert compiled.branch == branch
    assert compiled.has_perm("customers.view_customer") is orm.has_perm("customers.view_customer") is True


def test_the_compiled_read_answers_each_call_with_its_own_row_and_none_for_no_row(manager, other_manager):
    assert signed_in_user(manager.pk).username == manager.username
    assert signed_in_user(other_manager.pk).username == other_manager.username
    assert signed_in_user(other_manager.pk + 1000) is None
    assert signed_in_user(2**63) is None  # outside a bigint: the ORM's answer
    assert signed_in_user(str(manager.pk)).username == manager.username  # not an int: the ORM's path


def test_a_user_read_can_be_saved_as_the_orms_can(manager):
    user = signed_in_user(manager.pk)
    user.first_name = "Renamed"
    user.save(update_fields=["first_name"])

    assert User.objects.get(pk=manager.pk).first_name == "Renamed"


@pytest.mark.parametrize("backend", [ModelBackend(), FinPulseModelBackend(), FinPulseOIDCBackend()])
def test_every_backend_answers_an_inactive_user_with_none_as_djangos_did(manager, backend):
    assert backend.get_user(manager.pk) == manager
    User.objects.filter(pk=manager.pk).update(is_active=False)

    assert backend.get_user(manager.pk) is None


def test_password_sign_in_is_the_compiled_backends_session(client, manager, settings):
    settings.FINPULSE_LOCAL_LOGIN = True
    response = client.post("/accounts/login/", {"username": manager.username, "password": "correct-horse-battery"})

    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "apps.identity.backends.FinPulseModelBackend"
    assert client.get("/accounts/session/").json()["username"] == manager.username


@pytest.mark.parametrize("backend", ["apps.identity.backends.FinPulseModelBackend", OIDC_BACKEND])
def test_a_user_deactivated_by_a_queryset_update_is_out_on_their_next_request(client, manager, backend):
    client.force_login(manager, backend=backend)
    if backend == OIDC_BACKEND:
        session = client.session
        session["oidc_id_token_expiration"] = time.time() + 600  # not due: no SSO re-check in the way
        session.save()
    assert client.get("/accounts/session/").status_code == 200

    User.objects.filter(pk=manager.pk).update(is_active=False)  # no model save, no signal
    response = client.get("/accounts/session/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.get(action="session.ended").metadata["reason"] == "account_disabled"


def test_a_deleted_users_session_ends(client, other_manager):
    client.force_login(other_manager)
    assert client.get("/accounts/session/").status_code == 200
    User.objects.filter(pk=other_manager.pk).delete()

    response = client.get("/accounts/session/")

    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_a_session_from_a_retired_backend_ends_without_calling_the_account_disabled(client, manager):
    client.force_login(manager)
    session = client.session
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"  # signed in before decision 161
    session.save()

    response = client.get("/accounts/session/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.get(action="session.ended").metadata["reason"] == "sign_in_method_retired"
