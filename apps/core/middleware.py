from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.request_context import current_request_id, reset_request_id, set_request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id (the caller's X-Request-ID if well formed) for audit and logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        token = set_request_id(incoming if _SAFE_ID.match(incoming) else None)
        request.request_id = current_request_id()
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
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
