"""API test helpers: keys created through the real service, clients that send them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.models import ApiKey, Scope
from apps.api.services import create_api_key, owner_may_hold

ALL_SCOPES = tuple(Scope.values)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    # Role groups get their model permissions in identity's post_migrate, which runs before
    # later apps' permissions exist on a fresh database; sync once more (reported to the lead).
    from apps.identity.roles import sync_role_permissions

    with django_db_blocker.unblock():
        sync_role_permissions()


@pytest.fixture(autouse=True)
def _api_isolation(settings, tmp_path):  # type: ignore[no-untyped-def]
    # A generous rate so functional tests are never throttled; the throttle test lowers it.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "100000/min"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def issue_key(owner: Any, scopes: Iterable[str] | None = None, **kwargs: Any) -> tuple[ApiKey, str]:
    """A key for `owner` with the given scopes (default: every scope the owner's role allows)."""
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    admin = kwargs.pop("admin", None) or UserFactory(roles=[roles.ADMINISTRATOR])
    approved = kwargs.pop("approved", True)
    if scopes is None:
        scopes = [s for s in ALL_SCOPES if owner_may_hold(owner, s)]
    api_key, secret = create_api_key(
        actor=admin,
        owner=owner,
        name=kwargs.pop("name", "Test integration"),
        scopes=scopes,
        expires_at=kwargs.pop("expires_at", timezone.now() + dt.timedelta(days=30)),
    )
    if approved:  # the second administrator's approval (four eyes), through the real service
        approve_pending_key(api_key)
        api_key.refresh_from_db()
    return api_key, secret


def approve_pending_key(api_key: ApiKey, checker: Any = None) -> Any:
    """A second administrator approves the key's pending request; returns the request."""
    from apps.approvals.models import ChangeRequest
    from apps.approvals.services import approve_change
    from apps.identity import roles
    from tests.identity.factories import UserFactory

    change = ChangeRequest.objects.get(target_type="api.apikey", target_id=str(api_key.pk), status="pending")
    return approve_change(checker=checker or UserFactory(roles=[roles.ADMINISTRATOR]), change=change)


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    return client


@pytest.fixture
def api_client_for() -> Callable[..., APIClient]:
    """api_client_for(user, scopes=None) -> an APIClient authenticated with a fresh key."""

    def build(user: Any, scopes: Iterable[str] | None = None) -> APIClient:
        _, secret = issue_key(user, scopes)
        return key_client(secret)

    return build


@pytest.fixture
def manager_api(manager, api_client_for) -> APIClient:  # type: ignore[no-untyped-def]
    return api_client_for(manager)


@pytest.fixture
def other_api(other_manager, api_client_for) -> APIClient:  # type: ignore[no-untyped-def]
    return api_client_for(other_manager)


def problem(response: Any) -> dict[str, Any]:
    """The problem JSON of an error response (asserting it is one)."""
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == response.status_code
    return body
