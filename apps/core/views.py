from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from apps.core.health import run_readiness_checks
from apps.core.metrics import metrics_allowed, render_metrics


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("customers:list")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No I/O, so a database outage never restarts web containers."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when database, cache, broker and storage answer in time, else 503 naming the failure."""
    results = run_readiness_checks()
    failed = [result.name for result in results if not result.ok]
    checks = {
        result.name: {"ok": result.ok, "ms": result.milliseconds, **({"error": result.error} if result.error else {})}
        for result in results
    }
    body = {"status": "unready" if failed else "ready", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition; 404 (like any unknown page) without the token or an allowed address."""
    if not metrics_allowed(request):
        return not_found(request)
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@never_cache
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the static icon."""
    from django.templatetags.static import static

    return redirect(static("img/favicon.svg"))


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A styled 403 that says why: the PermissionDenied message is written for people
    ("Your role may not reveal personal data."); a bare refusal gets a general sentence."""
    reason = str(exception or "").strip() or _("Your role does not allow this action.")
    return render(request, "403.html", {"reason": reason}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: no details of the failure, the request id to quote to support."""
    from django.template import loader

    from apps.core.request_context import current_request_id

    # No request context: the failure may be the database the user or the session live in.
    page = loader.get_template("500.html").render({"request_id": current_request_id() or ""})
    return HttpResponse(page, status=500)
