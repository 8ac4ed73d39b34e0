from __future__ import annotations

import http
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty

from apps.core.data_keys import data_key_scope
from apps.core.request_context import (
    current_request_id,
    current_user_id,
    reset_request_id,
    reset_user_id_reader,
    set_request_id,
    set_user_id_reader,
)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id (the caller's X-Request-ID if well formed) for audit and logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The header read from META, as request.headers would (decision 184): building that mapping
        # of every header cost ~20 us a request, and nothing else on a signed-in GET asks for it.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        token = set_request_id(incoming if _SAFE_ID.match(incoming) else None)
        user_token = set_user_id_reader(lambda: _loaded_user_id(request))
        request.request_id = current_request_id()
        try:
            # Unwrapped data keys live for this request only (apps.core.data_keys).
            with data_key_scope():
                response = self.get_response(request)
        finally:
            reset_user_id_reader(user_token)
            reset_request_id(token)
        response["X-Request-ID"] = request.request_id
        return response


def _loaded_user_id(request: HttpRequest) -> int | None:
    """The user's id once authentication has resolved it (a log line must not cause a query)."""
    user = request.__dict__.get("_cached_user")  # Django's lazy request.user, once evaluated
    explicit = request.__dict__.get("user")
    if explicit is not None and not isinstance(explicit, SimpleLazyObject):
        user = explicit  # set directly (DRF authentication, force_login in tests)
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


class RequestIdLogFilter(logging.Filter):
    """Every record carries the request id and the user id ("-" outside a request or signed out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        record.user_id = current_user_id() or "-"
        return True


PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


class ProbeMiddleware:
    """Answer the load balancer's and Prometheus's probes before anything else runs.

    First in MIDDLEWARE: probes come from the load balancer and the scraper with the
    container's address as Host and over plain HTTP inside the VPC, so they must not meet
    ALLOWED_HOSTS, the HTTPS redirect, sessions or the request metrics (probe noise). Each
    path still has its URL (finpulse/urls.py) and view; /metrics checks its own token.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PROBE_PATHS and request.method in ("GET", "HEAD"):
            from apps.core import views

            view = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": views.metrics}[request.path_info]
            return view(request)
        return self.get_response(request)


REPLICA_PIN_SESSION_KEY = "_db_primary_until"
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


class ReplicaRoutingMiddleware:
    """Read-your-writes with a read replica (finpulse/db_router.py).

    A GET/HEAD of a session that has not written in the last FINPULSE_REPLICA_PIN_SECONDS may
    read from the replica until its first write; any other request reads from the primary. A
    request that wrote pins its session to the primary for the next few seconds, so the page
    it redirects to shows what was just saved even while the replica lags.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from finpulse.db_router import replica_configured, replica_reads

        if not replica_configured():
            return self.get_response(request)
        session = getattr(request, "session", None)
        pinned = session is not None and session.get(REPLICA_PIN_SESSION_KEY, 0) > time.time()
        with replica_reads(allowed=request.method in READ_ONLY_METHODS and not pinned) as routing:
            response = self.get_response(request)
        if session is not None and (routing.wrote or request.method not in READ_ONLY_METHODS):
            session[REPLICA_PIN_SESSION_KEY] = time.time() + settings.FINPULSE_REPLICA_PIN_SECONDS
        return response


# Paths that machines read: they answer in LANGUAGE_CODE whatever the browser or the cookie says.
MACHINE_PATH_PREFIXES = ("/api/",)


class InterfaceLocaleMiddleware(LocaleMiddleware):
    """Pages speak the user's language (the language cookie, else Accept-Language); the API does not.

    Django's LocaleMiddleware for the pages. The REST API's problem JSON titles and field errors
    stay in English for every client (docs/decisions.md 90): other bank systems match on them,
    and a bank system's Accept-Language header must not change a machine format.

    Django's middleware also looks for a language prefix in the path (`get_language_from_path`)
    on the way in and out, though it uses what it finds only where `i18n_patterns` are used; a
    path like /accounts/session/ is tried as the language "accounts", a lookup whose miss is not
    cached (about 25 us twice a request). Without `i18n_patterns` in the URLconf (FinPulse has
    none) this does what Django's does minus that lookup (decision 184); with them, Django's own.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(MACHINE_PATH_PREFIXES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE  # type: ignore[attr-defined]
            return
        if _language_prefix_patterns(request):
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if _language_prefix_patterns(request):
            return super().process_response(request, response)  # type: ignore[no-any-return]
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _language_prefix_patterns(request: HttpRequest) -> bool:
    """Whether the request's URLconf uses i18n_patterns (Django's answer, cached per URLconf)."""
    used, _prefixed_default = is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))
    return bool(used)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware; the message storage is built when something first uses it.

    Django builds the storage (FallbackStorage: a cookie storage with its signer and a session
    storage) for every request, about 25 us, and most requests (the floor, fragments, the API)
    never add or read a message. A storage nobody touched has nothing to save: Django's
    `update()` then neither writes the cookie nor the session. So `request._messages` is a lazy
    object that builds the same storage on first use (`messages.info`, `get_messages`, the
    template context's `messages`), and the response is left alone when it was never built
    (decision 184).
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response
        return super().process_response(request, response)  # type: ignore[no-any-return]


# What a response or request carries when it changes its own policy (django-csp's decorators, a nonce).
_OWN_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_DEBUG_EXEMPT = (http.HTTPStatus.INTERNAL_SERVER_ERROR, http.HTTPStatus.NOT_FOUND)
# (header, its settings name) -> (the policy text, the excluded path prefixes); built once per process.
_SETTINGS_POLICIES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        _SETTINGS_POLICIES.clear()


def _settings_policy(header: str, setting: str) -> tuple[str, tuple[str, ...]]:
    known = _SETTINGS_POLICIES.get((header, setting))
    if known is None:
        policy = getattr(settings, setting, None) or {}
        known = (
            build_policy(report_only=header == HEADER_REPORT_ONLY),
            tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
        _SETTINGS_POLICIES[(header, setting)] = known
    return known


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware; the policy that comes from the settings alone is built once per process.

    django-csp rebuilds both headers (the policy and the report-only one) from the settings for
    every response, though nothing in them varies by request unless a view changes its policy
    (django-csp's decorators) or a page uses the nonce; FinPulse's pages do neither. Such a
    response or request still goes through django-csp's own code; any other gets the same text,
    built once and set under the same conditions (decision 162). A test compares both headers
    with django-csp's, byte for byte, for plain, exempt, excluded, nonce and decorated responses.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _OWN_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        for header, setting, exempt in (
            (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro"),
        ):
            policy, excluded = _settings_policy(header, setting)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
