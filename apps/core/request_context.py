"""The current request's id, readable by audit and logging without passing it around."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_user_id: contextvars.ContextVar[Callable[[], int | None] | None] = contextvars.ContextVar("user_id", default=None)


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str | None = None) -> contextvars.Token[str]:
    return _request_id.set(value or uuid.uuid4().hex)


def reset_request_id(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


def current_user_id() -> int | None:
    """The signed-in user's id for logs, if the request has already loaded its user (no query here)."""
    reader = _user_id.get()
    return reader() if reader is not None else None


def set_user_id_reader(reader: Callable[[], int | None] | None) -> contextvars.Token[Callable[[], int | None] | None]:
    return _user_id.set(reader)


def reset_user_id_reader(token: contextvars.Token[Callable[[], int | None] | None]) -> None:
    _user_id.reset(token)
