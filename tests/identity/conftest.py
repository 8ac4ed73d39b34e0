"""Identity test fixtures: the real OIDC provider on loopback, and SSO settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from apps.identity.jwks import forget_cached_keys
from apps.identity.oidc_config import forget_discovery
from tests.conftest import services_required
from tests.identity.oidc_support import (
    API_AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    SCOPES,
    ProviderProcess,
    provider_unavailable_reason,
    start_provider,
)

ROLE_MAP = (
    "finpulse-rm=Relationship manager,finpulse-bm=Branch manager,"
    "finpulse-compliance=Compliance officer,finpulse-admin=Administrator"
)


@pytest.fixture(scope="session")
def oidc_provider(live_server) -> Iterator[ProviderProcess]:  # type: ignore[no-untyped-def]
    """`node provider.mjs` for the whole session; skips (fails under FINPULSE_REQUIRE_SERVICES=1) without Node."""
    reason = provider_unavailable_reason()
    if reason:
        if services_required():
            pytest.fail(f"FINPULSE_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    provider = start_provider(
        redirect_uris=[f"{live_server.url}/oidc/callback/", f"{live_server.url}/test-api-client/callback"],
        post_logout_uris=[f"{live_server.url}/accounts/logged-out/"],
    )
    try:
        yield provider
    finally:
        provider.stop()


def point_settings_at(settings, provider_url: str) -> None:  # type: ignore[no-untyped-def]
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_DISCOVERY_URL = ""
    settings.OIDC_OP_ISSUER = provider_url
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider_url}/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider_url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider_url}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider_url}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{provider_url}/session/end"
    settings.OIDC_RP_SCOPES = SCOPES
    settings.OIDC_API_AUDIENCE = API_AUDIENCE
    settings.FINPULSE_OIDC_ROLES_CLAIM = "groups"
    settings.FINPULSE_OIDC_ROLE_MAP = ROLE_MAP
    settings.FINPULSE_OIDC_BRANCH_CLAIM = "branch"
    settings.OIDC_CREATE_USER = True


@pytest.fixture
def sso(settings, oidc_provider) -> Iterator[ProviderProcess]:  # type: ignore[no-untyped-def]
    """SSO settings pointing at the live provider, with empty key caches and hit counters."""
    point_settings_at(settings, oidc_provider.url)
    forget_cached_keys()
    forget_discovery()
    cache.clear()
    oidc_provider.set_access_token_ttl(600)
    oidc_provider.reset_hits()
    yield oidc_provider
    forget_cached_keys()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:  # type: ignore[no-untyped-def]
    # Pages render without `collectstatic`: the manifest storage would refuse unknown files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    forget_cached_keys()
    forget_discovery()
    yield
    forget_cached_keys()
    forget_discovery()
