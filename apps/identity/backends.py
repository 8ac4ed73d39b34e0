"""Browser sign-in through the bank's SSO: mozilla-django-oidc, with a bank's defaults.

Differences from the library's defaults, each on purpose:
- users are matched on (issuer, subject), never on email (an email can move to another person);
- the ID token is validated locally against the cached JWKS with issuer, audience, expiry and
  nonce all checked (the library skips the audience and issuer);
- userinfo must describe the same subject as the ID token;
- roles and branch are copied from the claims at every sign-in, and a person with no FinPulse
  role is refused (LoginRefused), never given an empty account;
- every failure becomes a LoginRefused with a reason the callback view can show and audit,
  never an unhandled exception.
"""

from __future__ import annotations

from typing import Any

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from apps.core.compiled import CompiledQuery
from apps.identity.claims import LoginRefused, map_identity
from apps.identity.models import User
from apps.identity.oidc_config import ProviderUnavailable, oidc_enabled, oidc_setting
from apps.identity.services import strip_roles, sync_user_from_identity
from apps.identity.tokens import TokenRefused, decode_provider_jwt


def _user_by_id(user_id: int) -> QuerySet[User]:
    return User._default_manager.filter(pk=user_id)


# The signed-in user's row, read on every request: compiled once per process (decision 161).
_USER = CompiledQuery(User, _user_by_id, user_id=-161_161_161)
_BIGINT = range(-(2**63), 2**63)


def signed_in_user(user_id: Any) -> User | None:
    """The user with this id, as `User._default_manager.get(pk=user_id)` reads it, or None.

    A session's user is read by every request (Django's `get_user`), and building and compiling
    the ORM's query was most of the floor view's user read; the statement is the same for every
    user, so it is compiled once (apps/core/compiled.py) and run with the id. An id that is not a
    plain integer within a bigint goes to the ORM, which answers it as before.
    """
    if type(user_id) is not int or user_id not in _BIGINT:
        try:
            return User._default_manager.get(pk=user_id)
        except User.DoesNotExist:
            return None
    rows = _USER.rows(user_id=user_id)
    return rows[0] if rows else None


class FinPulseModelBackend(ModelBackend):
    """Django's ModelBackend (passwords: break-glass, dev/demo; permissions), the user read compiled once."""

    def get_user(self, user_id: Any) -> User | None:
        user = signed_in_user(user_id)
        # ModelBackend's own rule: an inactive user is no user (their session ends, apps/identity/middleware.py).
        return user if user is not None and self.user_can_authenticate(user) else None


def _setting(name: str) -> property:
    return property(lambda self: self.get_settings(name))


class FinPulseOIDCBackend(OIDCAuthenticationBackend):
    # Read when used, not when Django instantiates the backend (it does so per request).
    OIDC_OP_TOKEN_ENDPOINT = _setting("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _setting("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _setting("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = _setting("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _setting("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = _setting("OIDC_RP_SIGN_ALGO")
    OIDC_RP_IDP_SIGN_KEY = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Only the SSO callback passes a nonce/code verifier; password sign-ins are not ours.
        if request is None or not oidc_enabled() or ("nonce" not in kwargs and "code_verifier" not in kwargs):
            return None
        try:
            return super().authenticate(request, **kwargs)
        except LoginRefused:
            raise
        except TokenRefused as error:
            raise LoginRefused(
                f"id_token_{error.reason}", f"The sign-in could not be verified: {error.message}"
            ) from error
        except ProviderUnavailable as error:
            raise LoginRefused("provider_unreachable", "The bank's sign-in service is unavailable.") from error
        except requests.HTTPError as error:
            raise LoginRefused(
                "provider_rejected", "The bank's sign-in service rejected the sign-in. Please start again."
            ) from error
        except (requests.RequestException, ValueError) as error:
            raise LoginRefused("provider_unreachable", "The bank's sign-in service is unavailable.") from error
        except SuspiciousOperation as error:
            raise LoginRefused("invalid_response", "The sign-in response could not be verified.") from error

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        claims = decode_provider_jwt(
            token, audience=self.OIDC_RP_CLIENT_ID, algorithms=[self.OIDC_RP_SIGN_ALGO], leeway=60
        )
        nonce = kwargs.get("nonce")
        # The nonce ties this ID token to the sign-in this browser started (no replay).
        if not nonce or claims.get("nonce") != nonce:
            raise LoginRefused(
                "nonce_mismatch", "The sign-in response does not belong to this sign-in. Please start again."
            )
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = dict(payload)
        # The callback view reads acr/amr/auth_time from here for step-up (apps.identity.step_up).
        self.request.finpulse_id_claims = dict(payload)  # type: ignore[attr-defined]
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload["sub"]:
                # OIDC Core 5.3.2: userinfo for another subject must not be used.
                raise LoginRefused("userinfo_mismatch", "The sign-in service answered for another person.")
            claims.update({key: value for key, value in userinfo.items() if key not in ("iss", "aud")})
        try:
            identity = map_identity(claims, issuer=payload["iss"])
        except LoginRefused as refusal:
            if refusal.reason == "no_finpulse_role":
                strip_roles(issuer=payload["iss"], subject=payload["sub"], source="sso")
            raise
        return sync_user_from_identity(identity=identity, source="sso")

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        # Never by email: (issuer, subject) is the identity.
        return self.UserModel.objects.filter(oidc_issuer=claims.get("iss", ""), oidc_subject=claims.get("sub", ""))

    def get_user(self, user_id: Any) -> Any:
        # mozilla-django-oidc reads `UserModel.objects.get(pk=user_id)`: the same row, compiled once.
        user = signed_in_user(user_id)
        # A deactivated user's session ends (the middleware logs it out and records why).
        return user if user is not None and user.is_active else None
