"""Step-up: privileged actions need a recent second factor (docs/compliance.md).

One rule for every privileged action (approving a four-eyes request, moving a portfolio,
exporting personal data, erasure): the session must hold a second factor verified within
FINPULSE_STEP_UP_MAX_AGE_SECONDS. It is verified either by the bank's SSO, when the ID token's
`amr` names a second factor (FINPULSE_STEP_UP_AMR_VALUES) or its `acr` is one of
FINPULSE_STEP_UP_ACR_VALUES, dated by its `auth_time`; or here, with the code of the person's
TOTP device (django-otp). Views use `step_up_required`; other code asks
`has_recent_second_factor`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from apps.identity.flow import safe_next
from apps.identity.oidc_config import ID_TOKEN_SESSION_KEY, oidc_enabled

SECOND_FACTOR_SESSION_KEY = "finpulse_second_factor"  # {"at": epoch seconds, "method": "totp"|"sso"}
STEP_UP_MESSAGE = (
    "This action needs a recent second factor: confirm it is you with your authenticator "
    "(or the bank's sign-in), then do it again."
)
SSO_STEP_UP_MESSAGE = (
    "This action needs a recent second factor: the bank's sign-in will ask you to confirm it is you "
    "(with your second factor), then bring you back here to do it again."
)


def _max_age() -> int:
    return int(settings.FINPULSE_STEP_UP_MAX_AGE_SECONDS)


def second_factor_verified_at(request: HttpRequest) -> float | None:
    record = request.session.get(SECOND_FACTOR_SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(record, dict):
        return None
    at = record.get("at")
    return float(at) if isinstance(at, int | float) else None


def has_recent_second_factor(request: HttpRequest) -> bool:
    """Did this session verify a second factor within the step-up window?"""
    at = second_factor_verified_at(request)
    return at is not None and 0 <= time.time() - at <= _max_age()


def remember_second_factor(request: HttpRequest, *, method: str, at: float | None = None) -> None:
    """Mark the session as stepped up at `at` (now by default). The caller audits it."""
    request.session[SECOND_FACTOR_SESSION_KEY] = {"at": at if at is not None else time.time(), "method": method}


def sso_second_factor_time(claims: Mapping[str, Any]) -> float | None:
    """When the IdP says this person used a second factor (its `auth_time`), or None.

    `amr` (RFC 8176 method values such as "mfa", "otp", "hwk") must share a value with
    FINPULSE_STEP_UP_AMR_VALUES, or `acr` must be one of FINPULSE_STEP_UP_ACR_VALUES.
    """
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    accepted_amr = set(settings.FINPULSE_STEP_UP_AMR_VALUES)
    accepted_acr = set(settings.FINPULSE_STEP_UP_ACR_VALUES)
    proven = bool(accepted_amr & {str(value) for value in amr}) or (
        bool(accepted_acr) and str(claims.get("acr", "")) in accepted_acr
    )
    if not proven:
        return None
    auth_time = claims.get("auth_time")
    return float(auth_time) if isinstance(auth_time, int | float) else time.time()


def _return_to(request: HttpRequest) -> str:
    """Where the step-up page sends the person back: the page itself for a GET; for a form
    post, the page the form was on (a POST cannot be replayed, so they press it again)."""
    if request.method == "GET":
        return request.get_full_path()
    candidate = request.POST.get("next") or ""
    referer = request.headers.get("Referer", "")
    if not candidate and referer:
        parts = urlsplit(referer)
        if parts.netloc == request.get_host():
            candidate = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(request, candidate, default="/")


def step_up_url(request: HttpRequest) -> str:
    return f"{reverse('step_up')}?{urlencode({'next': _return_to(request)})}"


def _signed_in_by_sso(request: HttpRequest) -> bool:
    return oidc_enabled() and bool(getattr(request, "session", {}).get(ID_TOKEN_SESSION_KEY))


def refuse_without_step_up(request: HttpRequest) -> HttpResponse:
    """The refusal: a clear message, and the way to step up that returns to the action. A person
    signed in through SSO goes straight back to the bank's IdP (`step_up_sso`: a fresh sign-in,
    prompt=login and max_age=0, asking FINPULSE_STEP_UP_ACR_VALUES); anyone else gets the
    step-up page (TOTP)."""
    if _signed_in_by_sso(request):
        messages.warning(request, SSO_STEP_UP_MESSAGE)
        url = f"{reverse('step_up_sso')}?{urlencode({'next': _return_to(request)})}"
    else:
        messages.warning(request, STEP_UP_MESSAGE)
        url = step_up_url(request)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def step_up_refusal(request: HttpRequest) -> HttpResponse | None:
    """The refusal for a privileged action without a recent second factor, or None to go on.

    For views that must first look the object up (a stranger's object stays a 404, not a
    step-up page); others use `step_up_required`."""
    return None if has_recent_second_factor(request) else refuse_without_step_up(request)


def step_up_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The one decorator for privileged actions: no recent second factor, no action."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return step_up_refusal(request) or view(request, *args, **kwargs)

    return wrapper
