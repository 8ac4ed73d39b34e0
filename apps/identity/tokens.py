"""Validate a JWT from the identity provider locally: signature, issuer, audience, expiry.

Used for ID tokens at browser sign-in and for access tokens on the API. Nothing here calls
the provider except through the cached JWKS (apps.identity.jwks).
"""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings

from apps.identity.jwks import SigningKeyUnavailable, signing_key
from apps.identity.oidc_config import ProviderUnavailable, oidc_setting

REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "aud"]


class TokenRefused(Exception):
    """`message` is safe to show to the caller; `reason` is the audit trail's code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def expected_issuer() -> str:
    try:
        issuer = oidc_setting("OIDC_OP_ISSUER")
    except ProviderUnavailable as error:
        raise TokenRefused("provider_unreachable", "The identity provider is unavailable.") from error
    if not issuer:
        raise TokenRefused("misconfigured", "Single sign-on is not fully configured (no issuer).")
    return str(issuer)


def decode_provider_jwt(
    token: str, *, audience: str, algorithms: list[str], leeway: int | None = None
) -> dict[str, Any]:
    """The verified claims of `token`, or TokenRefused with a reason and a message."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRefused("malformed", "The token is not a well-formed JWT.") from error
    alg = header.get("alg")
    if alg not in algorithms:
        # Never let the token choose its algorithm ("none", or HS256 keyed by a public key).
        raise TokenRefused("algorithm_not_allowed", f"Tokens signed with {alg!r} are not accepted.")
    kid = header.get("kid")
    try:
        key = signing_key(kid if isinstance(kid, str) else None, alg)
    except SigningKeyUnavailable as error:
        raise TokenRefused(error.reason, error.message) from error
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=audience,
            issuer=expected_issuer(),
            leeway=settings.OIDC_API_LEEWAY_SECONDS if leeway is None else leeway,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRefused("expired", "The token has expired.") from error
    except jwt.InvalidAudienceError as error:
        raise TokenRefused("wrong_audience", "The token was not issued for FinPulse (wrong audience).") from error
    except jwt.InvalidIssuerError as error:
        raise TokenRefused("wrong_issuer", "The token was not issued by the bank's identity provider.") from error
    except jwt.ImmatureSignatureError as error:
        raise TokenRefused("not_yet_valid", "The token is not valid yet.") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenRefused("missing_claim", f"The token lacks the {error.claim!r} claim.") from error
    except jwt.InvalidSignatureError as error:
        raise TokenRefused("bad_signature", "The token's signature is not valid (tampered or forged).") from error
    except jwt.PyJWTError as error:
        raise TokenRefused("invalid_token", "The token is not valid.") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") not in (None, *audiences):
        raise TokenRefused("wrong_audience", "The token was issued to another party (azp).")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRefused("missing_claim", "The token does not say who it is for (sub).")
    return claims
