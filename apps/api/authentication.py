"""API keys for machine clients: `X-API-Key: fp_<prefix>_<secret>`.

A request made with a key runs as the key's owner (request.user = owner, request.auth = the
key), so the customer selector bounds what the key can see and the services bound what it can
change; the key's scopes narrow that further (apps.api.permissions).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.api.models import ApiKey
from apps.api.services import hash_secret, note_api_key_use, split_key

if TYPE_CHECKING:
    from apps.identity.models import User

HEADER = "X-API-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    # Also the challenge on every 401 (DRF uses the first class's header for WWW-Authenticate).
    www_authenticate = f'ApiKey realm="FinPulse API", header="{HEADER}"'

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = request.headers.get(HEADER)
        if raw is None:
            return None  # let the next class (session, bearer token) try
        parts = split_key(raw)
        if parts is None:
            raise exceptions.AuthenticationFailed("The API key is malformed.", code="invalid-api-key")
        prefix, secret = parts
        api_key = ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
        # Compare in constant time; unknown and wrong secrets answer alike.
        expected = api_key.secret_hash if api_key else hash_secret("")
        if not hmac.compare_digest(expected, hash_secret(secret)) or api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid.", code="invalid-api-key")
        if api_key.is_revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.", code="api-key-revoked")
        if api_key.is_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.", code="api-key-expired")
        if not api_key.is_approved:
            raise exceptions.AuthenticationFailed(
                _("This API key is waiting for a second administrator's approval."), code="api-key-not-approved"
            )
        if not api_key.owner.is_active:
            raise exceptions.AuthenticationFailed(
                "The owner of this API key is inactive.", code="api-key-owner-inactive"
            )
        note_api_key_use(api_key=api_key)
        return api_key.owner, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.www_authenticate


def api_key_of(request: Request) -> ApiKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


def client_id(request: Request) -> str:
    """Who is calling, for idempotency keys and throttling: the key, else the user."""
    api_key = api_key_of(request)
    if api_key is not None:
        return f"key:{api_key.pk}"
    return f"user:{request.user.pk}"
