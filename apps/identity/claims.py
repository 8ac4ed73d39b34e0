"""Turn an identity provider's claims into a FinPulse identity: who, which roles, which branch.

The mapping is configuration, not code: `FINPULSE_OIDC_ROLES_CLAIM` names the claim that holds
the provider's groups or roles (a dotted path such as `realm_access.roles` reaches into nested
claims, as Keycloak issues them), `FINPULSE_OIDC_ROLE_MAP` maps provider values to FinPulse
roles, and `FINPULSE_OIDC_BRANCH_CLAIM` names the claim with the branch code. Values the map
does not know are ignored; a person left with no FinPulse role is refused, never given an
empty account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.identity import roles


class LoginRefused(Exception):
    """The provider vouched for someone FinPulse will not let in. `message` is safe to show."""

    def __init__(self, reason: str, message: str, *, subject: str = "", username: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.subject = subject
        self.username = username


@dataclass(frozen=True)
class MappedIdentity:
    issuer: str
    subject: str
    email: str
    first_name: str
    last_name: str
    username_hint: str
    roles: frozenset[str]
    branch_code: str | None  # None: the claim is absent; the user's branch is cleared
    provider_values: tuple[str, ...]  # what the roles claim said (for the audit trail)


def role_map() -> dict[str, str]:
    """FINPULSE_OIDC_ROLE_MAP as {provider value: FinPulse role}; a role name must exist."""
    configured: Any = settings.FINPULSE_OIDC_ROLE_MAP
    if isinstance(configured, Mapping):
        pairs = list(configured.items())
    else:
        pairs = []
        for item in str(configured).split(","):
            if not item.strip():
                continue
            value, sep, role = item.partition("=")
            if not sep:
                raise ImproperlyConfigured(f"FINPULSE_OIDC_ROLE_MAP entry {item!r} is not 'value=Role name'.")
            pairs.append((value.strip(), role.strip()))
    mapping = {}
    for value, role in pairs:
        if role not in roles.ALL_ROLES:
            raise ImproperlyConfigured(
                f"FINPULSE_OIDC_ROLE_MAP maps {value!r} to {role!r}, which is not one of: {', '.join(roles.ALL_ROLES)}."
            )
        mapping[value] = role
    return mapping


def claim_value(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at `path`; dots reach into nested objects (`realm_access.roles`)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _as_values(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        # Some providers send one space- or comma-separated string instead of an array.
        return tuple(part for part in raw.replace(",", " ").split() if part)
    if isinstance(raw, list | tuple | set | frozenset):
        return tuple(str(item) for item in raw if isinstance(item, str | int))
    return ()


def roles_from_claims(claims: Mapping[str, Any]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(FinPulse roles, the provider's values) for these claims."""
    values = _as_values(claim_value(claims, settings.FINPULSE_OIDC_ROLES_CLAIM))
    mapping = role_map()
    return frozenset(mapping[value] for value in values if value in mapping), values


def branch_code_from_claims(claims: Mapping[str, Any]) -> str | None:
    raw = claim_value(claims, settings.FINPULSE_OIDC_BRANCH_CLAIM)
    if raw is None:
        return None
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else ""
    return str(raw).strip() or None


def _names(claims: Mapping[str, Any]) -> tuple[str, str]:
    first = str(claims.get("given_name") or "").strip()
    last = str(claims.get("family_name") or "").strip()
    if not (first or last):
        full = str(claims.get("name") or "").strip()
        first, _, last = full.partition(" ")
    return first[:150], last[:150]


def map_identity(claims: Mapping[str, Any], *, issuer: str) -> MappedIdentity:
    """Read who this is and what they may do; refuse an identity without a FinPulse role."""
    subject = str(claims.get("sub") or "").strip()
    if not subject or not issuer:
        raise LoginRefused("missing_subject", "The sign-in did not say who you are (no issuer or subject).")
    email = str(claims.get("email") or "").strip()
    username_hint = str(claims.get("preferred_username") or email or subject).strip()
    found, values = roles_from_claims(claims)
    if not found:
        shown = ", ".join(values) if values else "none"
        raise LoginRefused(
            "no_finpulse_role",
            f"Your bank account has no FinPulse role (the sign-in listed: {shown}). "
            "Ask your manager or the access team to grant one.",
            subject=subject,
            username=username_hint,
        )
    first, last = _names(claims)
    return MappedIdentity(
        issuer=issuer,
        subject=subject,
        email=email[:254],
        first_name=first,
        last_name=last,
        username_hint=username_hint,
        roles=found,
        branch_code=branch_code_from_claims(claims),
        provider_values=values,
    )
