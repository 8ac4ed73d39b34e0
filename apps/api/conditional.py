"""Optimistic concurrency: ETag on every representation, If-Match on every change.

The ETag is the SHA-256 of the JSON representation the client sees, so any change to a field
it can read changes the tag. A PATCH must carry the tag it last read (428 without it); the row
is locked, its current tag compared, and a stale tag gets 412 with nothing changed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.exceptions import PreconditionFailed, PreconditionRequired
from apps.api.idempotency import attribute_write

Handler = Callable[..., Response]


def etag_for(data: Any) -> str:
    return '"' + hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:40] + '"'


def if_match_satisfied(header: str, current: str) -> bool:
    """RFC 9110 If-Match: '*' or any listed tag, compared strongly (weak tags never match)."""
    candidates = [tag.strip() for tag in header.split(",")]
    return "*" in candidates or current in candidates


def conditional(*, required: bool = True) -> Callable[[Handler], Handler]:
    """Decorate a handler that changes one object: lock it, check If-Match, run, attribute."""

    def decorator(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            header = request.headers.get("If-Match")
            if not header and required:
                raise PreconditionRequired()
            with transaction.atomic():
                instance = view.get_object_for_update()
                if header and not if_match_satisfied(header, etag_for(view.represent(instance))):
                    raise PreconditionFailed()
                response = handler(view, request, *args, **kwargs)
                attribute_write(request, response)
            return response

        wrapper.if_match = "required" if required else "optional"  # type: ignore[attr-defined]
        return wrapper

    return decorator
