"""Where the identity provider is: settings first, its discovery document for what is left blank.

mozilla-django-oidc reads only explicit endpoint settings. FinPulse also accepts
`OIDC_OP_DISCOVERY_URL`: the document is fetched once per process on first use (and shared
through Django's cache), never at import, so `manage.py` commands and `make run` work with
the provider unreachable.
"""

from __future__ import annotations

import threading
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from mozilla_django_oidc.utils import import_from_settings

# Setting name -> discovery document key.
DISCOVERY_KEYS = {
    "OIDC_OP_ISSUER": "issuer",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",  # nosec B105 - a document key, not a secret
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}
DISCOVERY_CACHE_SECONDS = 24 * 3600

_documents: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered nonsense."""


# The session keeps the provider's ID token (for RP-initiated logout); its presence also says
# this session was signed in through SSO.
ID_TOKEN_SESSION_KEY = "oidc_id_token"  # noqa: S105  # nosec B105


def oidc_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


def api_tokens_enabled() -> bool:
    return bool(settings.OIDC_API_AUDIENCE)


def discovery_document() -> dict[str, Any]:
    url = settings.OIDC_OP_DISCOVERY_URL
    if not url:
        return {}
    document = _documents.get(url)
    if document is not None:
        return document
    with _lock:
        cache_key = f"finpulse:oidc:discovery:{url}"
        document = cache.get(cache_key)
        if document is None:
            try:
                response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=settings.OIDC_VERIFY_SSL)
                response.raise_for_status()
                document = response.json()
            except (requests.RequestException, ValueError) as error:
                raise ProviderUnavailable(
                    f"The identity provider's discovery document is unavailable: {error}"
                ) from error
            if not isinstance(document, dict):
                raise ProviderUnavailable("The identity provider's discovery document is not a JSON object.")
            cache.set(cache_key, document, DISCOVERY_CACHE_SECONDS)
        _documents[url] = document
    return document


def oidc_setting(name: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting; blank endpoints come from the discovery document."""
    value = getattr(settings, name, None)
    if not value and name in DISCOVERY_KEYS and settings.OIDC_OP_DISCOVERY_URL:
        value = discovery_document().get(DISCOVERY_KEYS[name]) or value
    if value is None or value == "":
        if default:
            return default[0]
        if value is None:
            return import_from_settings(name, *default)
    return value


def forget_discovery() -> None:
    """Tests and settings changes: read the discovery document again on next use."""
    _documents.clear()
