"""OpenAPI generation: every operation documents its problem-JSON errors and its headers.

Rather than repeating 400/401/403/404/409/412/422/428/429 on every view (and forgetting one),
the schema class derives them from what the operation is: a path with an id can 404, a body or
query can 400, an idempotent POST can 409/422, a conditional change can 412/428, and every
operation can 401/403/429. Views add their own success examples with @extend_schema.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from apps.api.exceptions import PROBLEM_CONTENT_TYPE, problem_type

MAX_ID = 2**63 - 1  # PostgreSQL bigint
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.URLField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField(help_text="Short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request, safe to show to a person.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field errors: {field: [messages]}; nested fields are dotted (parties.0.role).",
    )
    request_id = serializers.CharField(required=False, help_text="Quote it to the bank's support desk.")


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An API key `fp_<prefix>_<secret>` created by an administrator. Requests run as the "
            "key's owner and are limited to the key's scopes.",
        }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The bank SSO's access tokens (apps.identity.authentication), documented beside API keys."""

    target_class = "apps.identity.authentication.OIDCAccessTokenAuthentication"
    name = "BearerAuth"
    optional = True

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from the bank's identity provider; roles come from its claims.",
        }


_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("validation-error", "Invalid input", "Some fields are invalid: see errors."),
    401: ("not-authenticated", "Unauthorized", "Authentication credentials were not provided."),
    403: ("insufficient-scope", "Forbidden", "This API key does not have the 'customers:write' scope."),
    404: ("not-found", "Not Found", "Not found."),
    409: ("idempotency-key-in-flight", "Request already in progress", "A request with this key is still running."),
    412: ("precondition-failed", "Changed since you read it", "The record changed since you read it."),
    415: ("unsupported-media-type", "Unsupported Media Type", 'Unsupported media type "text/plain" in request.'),
    422: ("idempotency-key-reused", "Idempotency-Key reused", "This key was already used with a different body."),
    428: ("precondition-required", "If-Match required", "Send the ETag you last read in an If-Match header."),
    429: ("throttled", "Too Many Requests", "Request was throttled. Expected available in 12 seconds."),
}
_DESCRIPTIONS = {
    400: "Invalid input (field errors in `errors`), a missing Idempotency-Key, or a bad cursor.",
    401: "No credentials, or an unknown, expired or revoked API key.",
    403: "The API key lacks the scope, or the caller's role does not allow it.",
    404: "No such object, or not one the caller may see (the two look alike); or a cursor that points at no page.",
    409: "A request with the same Idempotency-Key is still running, or the object's state forbids the change.",
    412: "If-Match does not match the current ETag; nothing was changed.",
    415: "The request body is not JSON.",
    422: "The Idempotency-Key was already used with a different request body.",
    428: "If-Match is required for this change.",
    429: "Too many requests from this client; see Retry-After.",
}


def problem_response(status: int) -> OpenApiResponse:
    code, title, detail = _PROBLEMS[status]
    example = {"type": problem_type(code), "title": title, "status": status, "detail": detail}
    if status == 400:
        example["errors"] = {"due_at": ["This field is required."]}
    return OpenApiResponse(
        ProblemSerializer, description=_DESCRIPTIONS[status], examples=[OpenApiExample(title, value=example)]
    )


class ProblemAutoSchema(AutoSchema):
    def _handler(self) -> Any:
        action = getattr(self.view, "action", None) or self.method.lower()
        return getattr(self.view, action, None)

    def _idempotency(self) -> str | None:
        return getattr(self._handler(), "idempotency", None)

    def _if_match(self) -> str | None:
        return getattr(self._handler(), "if_match", None)

    def _returns_etag(self) -> bool:
        action = getattr(self.view, "action", None)
        return action in ("retrieve", "create", "partial_update") or getattr(self._handler(), "returns_etag", False)

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if "{id}" in self.path:
            # Ids are positive integers (the router only routes digits).
            parameters.append(OpenApiParameter("id", ID_SCHEMA, OpenApiParameter.PATH, description="The object's id."))
        idempotency = self._idempotency()
        if idempotency:
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=idempotency == "required",
                    description="A unique key per intended write (e.g. a UUID). A retry with the same key and body "
                    "returns the first response without writing again; keys last 24 hours per client.",
                    pattern="^[ -~]{1,255}$",
                )
            )
        if_match = self._if_match()
        if if_match:
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=if_match == "required",
                    description="The ETag from your last read of this object.",
                )
            )
        if self._returns_etag():
            parameters.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=[200, 201],
                    required=True,
                    description="Version of this representation: send it back in If-Match to change the object.",
                )
            )
        return parameters

    def _problem_statuses(self) -> set[int]:
        statuses = {401, 403, 429}
        has_path_params = "{" in self.path
        has_query = bool(self._get_filter_parameters()) or bool(self._get_pagination_parameters())
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_path_params or self._get_pagination_parameters():
            statuses.add(404)  # no such object, or a cursor that points at no page
        if has_query or has_body or self._idempotency():
            statuses.add(400)
        if has_body:
            statuses |= {409, 415}
        if self._idempotency():
            statuses.add(422)
        if self._if_match():
            statuses.add(412)
            if self._if_match() == "required":
                statuses.add(428)
        statuses |= set(getattr(self._handler(), "problem_statuses", ()))
        return statuses

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in sorted(self._problem_statuses()):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    problem_response(status), str(status), media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
        return responses
