"""One exception handler for the API: every error is RFC 9457 problem JSON.

DRF's own errors, Django's Http404/PermissionDenied and our DomainError subclasses all come out
as `application/problem+json` with `type`, `title`, `status`, `detail` and, for bad input,
`errors: {field: [messages]}`. Anything else is a bug and is left to Django (a logged 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.core.errors import DomainError
from apps.core.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://finpulse.bank.example/problems/"


class Problem(exceptions.APIException):
    """An API error with its own problem type; subclasses set status, code and title."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request is invalid."
    title = ""


class IdempotencyKeyMissing(Problem):
    default_code = "idempotency-key-missing"
    title = "Idempotency-Key required"
    default_detail = (
        "This request creates a record: send an Idempotency-Key header so that a retry cannot create it twice."
    )


class IdempotencyKeyInvalid(Problem):
    default_code = "idempotency-key-invalid"
    title = "Invalid Idempotency-Key"
    default_detail = "The Idempotency-Key must be 1 to 255 printable ASCII characters."


class IdempotencyKeyReused(Problem):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency-key-reused"
    title = "Idempotency-Key reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


class IdempotencyKeyInFlight(Problem):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency-key-in-flight"
    title = "Request already in progress"
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."


class PreconditionRequired(Problem):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition-required"
    title = "If-Match required"
    default_detail = (
        "Send the ETag you last read in an If-Match header, so that a concurrent change is not overwritten."
    )


class PreconditionFailed(Problem):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition-failed"
    title = "Changed since you read it"
    default_detail = "The record changed since you read it: fetch it again and reapply your change."


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient-scope"
    default_detail = "This API key's scopes do not allow this request."


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_BASE + str(code).replace("_", "-")


def problem_body(*, status_code: int, code: str, detail: str, title: str = "", errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    return body


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [...], "parties.0.role": [...]}."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (Mapping, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _from_api_exception(exc: exceptions.APIException) -> tuple[dict[str, Any], dict[str, str]]:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    title = getattr(exc, "title", "")
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        only_general = set(errors) == {"non_field_errors"}
        detail = " ".join(errors["non_field_errors"]) if only_general else "Some fields are invalid: see errors."
        body = problem_body(
            status_code=exc.status_code, code="validation-error", title="Invalid input", detail=detail, errors=errors
        )
        return body, headers
    code = getattr(exc.detail, "code", None) or exc.default_code
    detail = exc.detail if isinstance(exc.detail, str) else " ".join(_flatten(exc.detail).get("non_field_errors", []))
    body = problem_body(status_code=exc.status_code, code=code or exc.default_code, title=title, detail=str(detail))
    return body, headers


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else None
        body = problem_body(status_code=exc.status, code=exc.code, title=exc.title, detail=exc.message, errors=errors)
        headers: dict[str, str] = {}
    elif isinstance(exc, Http404):
        body, headers = _from_api_exception(exceptions.NotFound("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        body, headers = _from_api_exception(exceptions.PermissionDenied())
    elif isinstance(exc, exceptions.APIException):
        body, headers = _from_api_exception(exc)
    else:
        return None  # a bug: Django logs it and answers 500
    # Imported here: rest_framework.views imports the settings that name this module.
    from rest_framework.views import set_rollback

    set_rollback()
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt  # API clients send no CSRF token; without this an unknown POST would get Django's HTML 403
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under /api/v1/ answer problem JSON rather than the HTML 404 page."""
    body = problem_body(status_code=404, code="not-found", detail="There is no API endpoint at this address.")
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
