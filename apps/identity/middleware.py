"""Keep a signed-in session honest: deactivated users are out, SSO roles are re-checked.

mozilla-django-oidc's own SessionRefresh renews only on plain GETs and answers an htmx
request with a redirect that htmx would swap into the page. This middleware instead:
- ends the session of a user deactivated (or deleted) since they signed in, and records it;
- when the SSO session is due for a re-check (`OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS`), sends a
  page GET through a silent `prompt=none` re-authentication, which re-syncs roles and branch
  from the provider (a role removed there is removed here; a user disabled there is logged out);
- answers an htmx request that is due with 401 and `HX-Redirect` to that re-authentication, so
  htmx navigates the whole page (and comes back to the page, not to the fragment's URL);
- lets other non-GET requests through (a form post cannot survive a redirect); the next page
  load re-checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, empty

from apps.core.urls_fast import fast_reverse
from apps.identity.flow import authorization_url, safe_next
from apps.identity.oidc_config import ProviderUnavailable, oidc_enabled
from apps.identity.services import record_session_ended

OIDC_BACKEND = "apps.identity.backends.FinPulseOIDCBackend"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class ResolvedUserMiddleware:
    """Put the user itself on `request.user`, in place of the lazy objects that stand for it.

    AuthenticationMiddleware wraps the user in a SimpleLazyObject and django-otp's OTPMiddleware
    wraps that in another. Each attribute read through one of them fails in LazyObject's
    `__getattribute__`, raises and catches an AttributeError and calls the wrapped object's through
    a proxy function: twice for the two layers. A page reads its user hundreds of times (role checks,
    the visibility scope, the page shell, templates), so the wrappers cost about a tenth of a
    millisecond a page (decision 192). Every signed-in page resolves the user anyway (login_required,
    the session checks below): resolving it here, once, adds no query. Installed right after
    OTPMiddleware, so `otp_device` and `is_verified()` are already on the user it puts there.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        while isinstance(user, SimpleLazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        if user is not None:
            request.user = user
        return self.get_response(request)


class SessionRefreshMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.check(request) or self.get_response(request)

    def exempt(self, request: HttpRequest) -> bool:
        path = request.path
        # fast_reverse: each route's path is reversed once per process, not three times a request.
        return path.startswith(("/oidc/", settings.STATIC_URL, "/api/")) or path in (
            fast_reverse("logout"),
            fast_reverse("logged_out"),
            fast_reverse("login"),
            "/healthz",
        )

    def check(self, request: HttpRequest) -> HttpResponse | None:
        session = getattr(request, "session", None)
        if session is None:
            return None
        if SESSION_KEY in session and not request.user.is_authenticated:
            return self.end_disabled_session(request)
        if not request.user.is_authenticated or session.get(BACKEND_SESSION_KEY) != OIDC_BACKEND:
            return None
        if session.get("oidc_id_token_expiration", 0) > time.time():
            return None  # not due: the common case, decided before anything else is asked
        if not oidc_enabled() or self.exempt(request):
            return None
        htmx = _is_htmx(request)
        if request.method != "GET" and not htmx:
            return None
        if htmx:
            current = request.headers.get("HX-Current-URL", "")
            parts = urlsplit(current)
            page = safe_next(request, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), default="/")
        else:
            page = request.get_full_path()
        try:
            url = authorization_url(request, next_url=page, prompt="none")
        except ProviderUnavailable:
            return None  # the provider is down: keep working on the FinPulse session until its idle timeout
        if htmx:
            response = HttpResponse(status=401)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)

    def end_disabled_session(self, request: HttpRequest) -> HttpResponse:
        from apps.identity.models import User

        user = User.objects.filter(pk=request.session.get(SESSION_KEY)).first()
        # An active user's session is refused only when its sign-in backend is no longer listed
        # (a password session from before decision 161): say so, not that the account is disabled.
        reason = "account_disabled" if user is None or not user.is_active else "sign_in_method_retired"
        record_session_ended(user=user, reason=reason, request=request)
        auth.logout(request)
        login = reverse("login")
        if _is_htmx(request):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login
            return response
        messages.info(request, "Your session has ended. Please sign in again.")
        return redirect(login)


TOUCHED_SESSION_KEY = "_touched"


class SessionTouchMiddleware:
    """Renew a signed-in session's idle timeout at most once per `FINPULSE_SESSION_TOUCH_SECONDS`.

    The session's server-side expiry (SESSION_COOKIE_AGE from its last save) is the idle timeout.
    Saving it on every request (SESSION_SAVE_EVERY_REQUEST) would write a row per page view; a
    session used within the last minute is left as it is, so the timeout is exact to that minute.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and not session.is_empty():
            now = int(time.time())
            if now - session.get(TOUCHED_SESSION_KEY, 0) >= settings.FINPULSE_SESSION_TOUCH_SECONDS:
                session[TOUCHED_SESSION_KEY] = now
        return response
