"""The identity provider's signing keys, cached so no request waits on the provider.

Keys live in Django's cache (Redis in production: shared by every process) and, parsed, in
this process for `LOCAL_SECONDS`. A token signed with a key id we do not hold makes us read
the shared cache again (another process may have refreshed it) and then fetch the JWKS from
the provider, but at most once per `OIDC_JWKS_MIN_REFRESH_SECONDS` across all processes: a
flood of tokens with invented key ids cannot turn into a flood of requests to the provider.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache

from apps.identity.oidc_config import ProviderUnavailable, oidc_setting

LOCAL_SECONDS = 60.0
_CACHE_PREFIX = "finpulse:oidc:jwks"


class SigningKeyUnavailable(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class _LocalKeys:
    url: str
    fingerprint: str
    keys: tuple[tuple[str | None, str | None, jwt.PyJWK], ...]  # (kid, alg, key)
    loaded_at: float


_local: _LocalKeys | None = None
_lock = threading.Lock()


def _cache_key(url: str) -> str:
    return f"{_CACHE_PREFIX}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def _parse(url: str, jwks: dict[str, Any]) -> _LocalKeys:
    fingerprint = hashlib.sha256(json.dumps(jwks, sort_keys=True).encode()).hexdigest()
    current = _local
    if current is not None and current.url == url and current.fingerprint == fingerprint:
        return _LocalKeys(url, fingerprint, current.keys, time.monotonic())
    keys = []
    for entry in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys.append((entry.get("kid"), entry.get("alg"), jwt.PyJWK(entry)))
        except jwt.PyJWTError:
            continue  # a key type we cannot use (e.g. an encryption key) is skipped, not fatal
    return _LocalKeys(url, fingerprint, tuple(keys), time.monotonic())


def _pick(local: _LocalKeys, kid: str | None, alg: str) -> jwt.PyJWK | None:
    candidates = [
        key for key_id, key_alg, key in local.keys if key_alg in (None, alg) and (kid is None or key_id == kid)
    ]
    if kid is None and len(candidates) != 1:
        return None  # without a key id, only an unambiguous single key is acceptable
    return candidates[0] if candidates else None


def _remember(local: _LocalKeys | None) -> None:
    global _local
    _local = local


def _fetch(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
        response.raise_for_status()
        jwks = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SigningKeyUnavailable("provider_unreachable", "The identity provider's keys are unavailable.") from error
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise SigningKeyUnavailable("provider_unreachable", "The identity provider's keys are not a JWKS document.")
    return jwks


def signing_key(kid: str | None, alg: str) -> jwt.PyJWK:
    """The provider's public key for a token header's `kid` and `alg` (raises SigningKeyUnavailable)."""
    try:
        url = oidc_setting("OIDC_OP_JWKS_ENDPOINT")
    except ProviderUnavailable as error:
        raise SigningKeyUnavailable("provider_unreachable", "The identity provider is unavailable.") from error
    if not url:
        raise SigningKeyUnavailable("misconfigured", "The identity provider's key endpoint is not configured.")
    local = _local
    if local is not None and local.url == url and time.monotonic() - local.loaded_at < LOCAL_SECONDS:
        key = _pick(local, kid, alg)
        if key is not None:
            return key
    cache_key = _cache_key(url)
    shared = cache.get(cache_key)
    if shared is not None:
        local = _parse(url, shared)
        _remember(local)
        key = _pick(local, kid, alg)
        if key is not None:
            return key
    with _lock:
        # Unknown key id, or nothing cached yet: refresh, rate-limited across processes.
        if not cache.add(f"{cache_key}:refresh", 1, timeout=settings.OIDC_JWKS_MIN_REFRESH_SECONDS):
            raise SigningKeyUnavailable(
                "unknown_key", "The token was signed with a key the identity provider does not publish."
            )
        jwks = _fetch(url)
        cache.set(cache_key, jwks, timeout=settings.OIDC_JWKS_CACHE_SECONDS)
        local = _parse(url, jwks)
        _remember(local)
    key = _pick(local, kid, alg)
    if key is None:
        raise SigningKeyUnavailable(
            "unknown_key", "The token was signed with a key the identity provider does not publish."
        )
    return key


def forget_cached_keys() -> None:
    """Drop this process's parsed keys (tests; the shared cache is left alone)."""
    _remember(None)
