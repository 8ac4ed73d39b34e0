"""Start an authorization code flow: state, nonce and a PKCE verifier kept in the session."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from mozilla_django_oidc.utils import (
    absolutify,
    add_state_and_verifier_and_nonce_to_session,
    generate_code_challenge,
)

from apps.identity.oidc_config import oidc_setting

# Marks a silent (prompt=none) re-authentication, so its failure ends the session quietly.
REFRESH_SESSION_KEY = "finpulse_oidc_refresh"


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def authorization_url(
    request: HttpRequest, *, next_url: str, prompt: str | None = None, extra: Mapping[str, str] | None = None
) -> str:
    """The provider's authorize URL for a new code flow; the secrets stay in the session."""
    state = get_random_string(32)
    nonce = get_random_string(32)
    code_verifier = get_random_string(64)
    params = {
        "response_type": "code",
        "scope": oidc_setting("OIDC_RP_SCOPES", "openid email"),
        "client_id": oidc_setting("OIDC_RP_CLIENT_ID"),
        "redirect_uri": absolutify(request, reverse("oidc_authentication_callback")),
        "state": state,
        "nonce": nonce,
        "code_challenge": generate_code_challenge(code_verifier, "S256"),
        "code_challenge_method": "S256",
    }
    params.update(oidc_setting("OIDC_AUTH_REQUEST_EXTRA_PARAMS", {}))
    if prompt:
        params["prompt"] = prompt
    params.update(extra or {})
    add_state_and_verifier_and_nonce_to_session(request, state, params, code_verifier)
    request.session["oidc_login_next"] = next_url
    request.session[REFRESH_SESSION_KEY] = prompt == "none"
    return f"{oidc_setting('OIDC_OP_AUTHORIZATION_ENDPOINT')}?{urlencode(params)}"
