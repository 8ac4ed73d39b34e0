"""Domain errors: a bank rule said no. Each surface (pages, API, commands) maps them once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404


class DomainError(Exception):
    """A bank rule said no. The message is safe to show."""

    status = 400
    code = "invalid"
    title = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError, Http404):
    """Missing and forbidden look alike. Being an Http404, it becomes the 404 page in any view
    without a wrapper; the API's problem handler maps it like every DomainError."""

    status, code, title = 404, "not-found", "Not found"


class PermissionDenied(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


def raise_as_domain_error(error: ValidationError) -> None:
    """A model's full_clean said no: the first field's messages become one DomainError on that field."""
    if hasattr(error, "error_dict"):
        field, messages = next(iter(error.message_dict.items()))
        raise DomainError(" ".join(messages), field=None if field == "__all__" else field) from error
    raise DomainError(" ".join(error.messages)) from error
