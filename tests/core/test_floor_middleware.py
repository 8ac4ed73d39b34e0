"""What every request pays, done once per process, answers as the libraries did (decision 162).

The CSP headers are django-csp's own, byte for byte, whatever the response or the settings;
the request metrics count each request in the same labelled series as django-prometheus.
"""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory
from prometheus_client import REGISTRY

from apps.core.middleware import ContentSecurityPolicyMiddleware

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE], "report-uri": "/csp/"}}


def headers_of(middleware_class, path: str, make_response, *, nonce: str | None = None):  # type: ignore[no-untyped-def]
    middleware = middleware_class(lambda request: HttpResponse())
    request = RequestFactory().get(path)
    middleware.process_request(request)
    if nonce:
        request._csp_nonce = nonce
    response = middleware.process_response(request, make_response())
    return response.get(HEADER), response.get(HEADER_REPORT_ONLY)


def plain() -> HttpResponse:
    return JsonResponse({"ok": True})


def exempt() -> HttpResponse:
    response = HttpResponse()
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response


def updated() -> HttpResponse:
    response = HttpResponse()
    response._csp_update = {"img-src": ["https://img.bank.example"]}  # type: ignore[attr-defined]
    return response


def replaced_report_only() -> HttpResponse:
    response = HttpResponse()
    response._csp_replace_ro = {"default-src": ["'none'"]}  # type: ignore[attr-defined]
    return response


def already_set() -> HttpResponse:
    response = HttpResponse()
    response[HEADER] = "default-src 'none'"
    return response


def not_found() -> HttpResponse:
    return HttpResponse(status=404)


RESPONSES = [plain, exempt, updated, replaced_report_only, already_set, not_found]


@pytest.mark.parametrize("make_response", RESPONSES)
@pytest.mark.parametrize("report_only", [False, True])
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("nonce", [None, "bm9uY2Utb2YtdGhpcy1yZXF1ZXN0"])
def test_the_headers_are_django_csps_byte_for_byte(settings, make_response, report_only, debug, nonce):
    settings.DEBUG = debug
    if report_only:
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = REPORT_ONLY

    ours = headers_of(ContentSecurityPolicyMiddleware, "/customers/", make_response, nonce=nonce)

    assert ours == headers_of(CSPMiddleware, "/customers/", make_response, nonce=nonce)
    if make_response is plain:
        assert ours[0] and "default-src 'self'" in ours[0] and "frame-ancestors 'none'" in ours[0]
        assert (ours[1] is not None) is report_only


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error_as_in_django_csp():
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/customers/")
    middleware.process_request(request)
    middleware.process_response(request, plain())

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


def test_a_changed_policy_and_excluded_prefixes_are_read_again(settings):
    before = headers_of(ContentSecurityPolicyMiddleware, "/customers/", plain)
    settings.CONTENT_SECURITY_POLICY = {
        "EXCLUDE_URL_PREFIXES": ["/static/"],
        "DIRECTIVES": {"default-src": ["'none'"], "img-src": ["data:"]},
    }

    after = headers_of(ContentSecurityPolicyMiddleware, "/customers/", plain)
    excluded = headers_of(ContentSecurityPolicyMiddleware, "/static/app.css", plain)

    assert after != before
    assert after == headers_of(CSPMiddleware, "/customers/", plain)
    # django-csp's directive order follows a set's, which differs between processes.
    assert after[1] is None and sorted(after[0].split("; ")) == ["default-src 'none'", "img-src data:"]
    assert excluded == headers_of(CSPMiddleware, "/static/app.css", plain) == (None, None)


def test_every_page_still_carries_the_policy(client, manager):
    client.force_login(manager)

    for path in ("/accounts/session/", "/", "/accounts/login/"):
        response = client.get(path)
        status = response.status_code
        expected = headers_of(CSPMiddleware, path, lambda status=status: HttpResponse(status=status))
        assert (response.get(HEADER), response.get(HEADER_REPORT_ONLY)) == expected


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_each_request_is_counted_once_in_its_labelled_series(client, manager):
    client.force_login(manager)
    client.get("/accounts/session/")  # the series exist
    series = [
        ("django_http_requests_total_by_method_total", {"method": "GET"}),
        ("django_http_requests_total_by_transport_total", {"transport": "http"}),
        (
            "django_http_requests_total_by_view_transport_method_total",
            {"view": "session_status", "transport": "http", "method": "GET"},
        ),
        ("django_http_responses_total_by_status_total", {"status": "200"}),
        (
            "django_http_responses_total_by_status_view_method_total",
            {"status": "200", "view": "session_status", "method": "GET"},
        ),
        ("django_http_responses_total_by_charset_total", {"charset": "utf-8"}),
        ("django_http_requests_latency_seconds_by_view_method_count", {"view": "session_status", "method": "GET"}),
    ]
    before = [sample(name, **labels) for name, labels in series]

    for _ in range(3):
        client.get("/accounts/session/")
    client.get("/accounts/no-such-page/")

    assert [sample(name, **labels) for name, labels in series] == [
        before[0] + 4,
        before[1] + 4,
        before[2] + 3,
        before[3] + 3,
        before[4] + 3,
        before[5] + 4,
        before[6] + 3,
    ]
    assert sample("django_http_responses_total_by_status_total", status="404") >= 1


@pytest.mark.django_db
def test_ajax_requests_and_request_bodies_are_counted_as_django_prometheus_counts_them(client, manager):
    client.force_login(manager)
    client.get("/accounts/session/")
    ajax = sample("django_http_ajax_requests_total")
    bodies = (
        sample("django_http_requests_body_total_bytes_count"),
        sample("django_http_requests_body_total_bytes_sum"),
    )

    client.get("/accounts/session/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    client.post("/accounts/session/", data="x" * 37, content_type="text/plain")
    client.get("/accounts/session/", HTTP_X_REQUESTED_WITH="fetch")

    assert sample("django_http_ajax_requests_total") == ajax + 1
    assert sample("django_http_requests_body_total_bytes_count") == bodies[0] + 3
    assert sample("django_http_requests_body_total_bytes_sum") == bodies[1] + 37


# -- the locale middleware without the path's language lookup (decision 184) --------------------

LOCALE_REQUESTS = [
    {},
    {"HTTP_ACCEPT_LANGUAGE": "it-IT,it;q=0.9"},
    {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"},
    {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.5"},
    {"HTTP_COOKIE": "django_language=it", "HTTP_ACCEPT_LANGUAGE": "en-GB"},
    {"HTTP_COOKIE": "django_language=xx"},
]


@pytest.mark.parametrize("path", ["/accounts/session/", "/it/customers/", "/en-gb/", "/no-such-page/"])
@pytest.mark.parametrize("meta", LOCALE_REQUESTS)
@pytest.mark.parametrize("status", [200, 404])
def test_the_locale_is_djangos_for_every_page_request(path, meta, status):
    from django.middleware.locale import LocaleMiddleware
    from django.utils import translation

    from apps.core.middleware import InterfaceLocaleMiddleware

    def answer(middleware_class):  # type: ignore[no-untyped-def]
        request = RequestFactory().get(path, **meta)
        seen = {}

        def view(request):  # type: ignore[no-untyped-def]
            seen["active"] = translation.get_language()
            return HttpResponse(status=status)

        response = middleware_class(view)(request)
        return request.LANGUAGE_CODE, seen["active"], response.status_code, list(response.items())

    try:
        assert answer(InterfaceLocaleMiddleware) == answer(LocaleMiddleware)
    finally:
        translation.activate("en-gb")


# -- message storage built on first use (decision 184) -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("adds", [0, 1, 2])
def test_messages_are_stored_as_djangos_middleware_stores_them(client, manager, adds):
    from django.contrib import messages
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    from apps.core.middleware import LazyMessageMiddleware

    def answer(middleware_class):  # type: ignore[no-untyped-def]
        def view(request):  # type: ignore[no-untyped-def]
            for n in range(adds):
                messages.info(request, f"Saved {n}.")
            return HttpResponse()

        request = RequestFactory().get("/")
        handler = SessionMiddleware(middleware_class(view))
        response = handler(request)
        cookie = response.cookies.get("messages")
        return cookie.value.split(":")[0] if cookie else None, dict(request.session), request.session.modified

    assert answer(LazyMessageMiddleware) == answer(MessageMiddleware)
    if adds:
        assert answer(LazyMessageMiddleware)[0] is not None


@pytest.mark.django_db
def test_a_message_added_during_a_request_is_kept_for_the_next(client, manager):
    from django.contrib.messages.storage.cookie import CookieStorage

    client.force_login(manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    response = client.get("/")  # the session of a deactivated user ends, with a message

    assert response.status_code == 302
    kept = CookieStorage(RequestFactory().get("/"))._decode(response.cookies["messages"].value)
    assert [str(message) for message in kept] == ["Your session has ended. Please sign in again."]


def test_a_request_that_touches_no_message_leaves_the_storage_unbuilt():
    from django.utils.functional import empty

    from apps.core.middleware import LazyMessageMiddleware

    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[attr-defined]
    response = LazyMessageMiddleware(lambda request: HttpResponse())(request)

    assert request._messages._wrapped is empty  # type: ignore[attr-defined]
    assert "messages" not in response.cookies
