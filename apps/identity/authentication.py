"""API bearer tokens: the provider's JWT access tokens, validated locally, no call to the provider.

mozilla-django-oidc's DRF class asks the provider's userinfo endpoint on every request (one
public load test: 13.6 requests/s, median 4.4 s). Here a token is checked against the cached
JWKS (signature, issuer, `OIDC_API_AUDIENCE`, expiry) and mapped to the user by (issuer,
subject) with roles and branch from the token's claims, exactly as at browser sign-in:
- a known user whose roles and branch match costs one query;
- a changed role set or branch is synced through the same service as sign-in (audited);
- an unknown subject with a FinPulse role is created like a first SSO sign-in (when
  OIDC_CREATE_USER is on), so a bank system can call the API before its user ever opened a page;
- a token with no FinPulse role, or for a deactivated user, is refused.
Every refusal is a 401 (AuthenticationFailed, rendered as problem JSON) and a `login.failed`
audit event with the reason.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.identity.claims import LoginRefused, map_identity
from apps.identity.models import Branch, User
from apps.identity.oidc_config import api_tokens_enabled
from apps.identity.services import record_login_failed, strip_roles, sync_user_from_identity
from apps.identity.tokens import TokenRefused, decode_provider_jwt


@functools.cache
def _user_sql() -> str:
    # One statement, no GROUP BY (a correlated ARRAY is cheaper to plan), table names from the
    # models, values as parameters: this query is the whole per-request database cost.
    names = {
        "user": User._meta.db_table,
        "through": User.groups.through._meta.db_table,
        "group": Group._meta.db_table,
        "branch": Branch._meta.db_table,
    }
    template = (
        'SELECT u.*, b."code" AS branch_code, ARRAY('
        'SELECT g."name" FROM "{through}" ug JOIN "{group}" g ON g."id" = ug."group_id" '
        'WHERE ug."user_id" = u."id") AS group_names '
        'FROM "{user}" u LEFT JOIN "{branch}" b ON b."id" = u."branch_id" '
        'WHERE u."oidc_issuer" = %s AND u."oidc_subject" = %s'
    )
    return template.format(**names)


def _user_for(issuer: str, subject: str) -> User | None:
    """The user with their role names and branch code, in one query."""
    user = next(iter(User.objects.raw(_user_sql(), [issuer, subject])), None)
    if user is not None:
        # Spare the role properties a second query.
        user.__dict__["role_names"] = frozenset(user.group_names)
    return user


class OIDCAccessTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <JWT access token from the bank's identity provider>`."""

    keyword = "Bearer"
    www_authenticate_realm = "finpulse-api"

    def authenticate(self, request: Request) -> tuple[User, dict[str, Any]] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if not api_tokens_enabled():
            return None  # SSO bearer tokens are off: leave the header to other schemes
        if len(header) != 2:
            self.fail(request, "malformed", "The Authorization header must be 'Bearer <token>'.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            self.fail(request, "malformed", "The bearer token contains invalid characters.")
        try:
            claims = decode_provider_jwt(
                token, audience=settings.OIDC_API_AUDIENCE, algorithms=list(settings.OIDC_API_ALGORITHMS)
            )
            identity = map_identity(claims, issuer=claims["iss"])
        except TokenRefused as error:
            self.fail(request, error.reason, error.message)
        except LoginRefused as error:
            if error.reason == "no_finpulse_role":
                strip_roles(issuer=claims["iss"], subject=claims["sub"], source="api")
            self.fail(request, error.reason, error.message, subject=error.subject, username=error.username)

        user = _user_for(identity.issuer, identity.subject)
        if user is not None and not user.is_active:
            self.fail(request, "account_disabled", "This FinPulse account is disabled.", subject=identity.subject)
        in_sync = (
            user is not None
            and frozenset(user.group_names) == identity.roles
            and user.branch_code == identity.branch_code
        )
        if not in_sync:
            try:
                user = sync_user_from_identity(identity=identity, source="api")
            except LoginRefused as error:
                self.fail(request, error.reason, error.message, subject=identity.subject)
        return user, claims

    def fail(self, request: Request, reason: str, message: str, *, subject: str = "", username: str = "") -> None:
        record_login_failed(
            reason=reason, method="api_bearer", request=request._request, subject=subject, username=username
        )
        raise AuthenticationFailed(detail=message, code=reason)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="{self.www_authenticate_realm}"'


class OIDCAccessTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme for the bank SSO's bearer tokens."""

    target_class = "apps.identity.authentication.OIDCAccessTokenAuthentication"
    name = "ssoBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from the bank's identity provider for the FinPulse API audience.",
        }
