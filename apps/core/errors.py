"""Domain errors: a bank rule said no. Each surface (pages, API, commands) maps them once."""

from __future__ import annotations


class DomainError(Exception):
    """A bank rule said no. The message is safe to show."""

    status = 400
    code = "invalid"
    title = "Invalid request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class PermissionDenied(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"
