"""Idempotent POSTs (IETF httpapi "The Idempotency-Key HTTP Header Field" draft).

- A POST that creates a record requires `Idempotency-Key` (400 problem JSON without it).
- The first request claims the key in its own committed transaction, so a concurrent retry
  finds it in progress and gets 409 instead of writing twice.
- The write and the stored response commit together; a retry with the same key and body
  gets the stored response (status, body, Location/ETag) without a second write.
- The same key with a different body gets 422. A 4xx answer is stored too (retrying a bad
  request gives the same answer); on a 5xx or a crash the claim is released so a retry can run.
- Keys belong to one client (API key, else user) and are forgotten after 24 hours.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.authentication import api_key_of, client_id
from apps.api.exceptions import (
    IdempotencyKeyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
)
from apps.api.models import IdempotencyRecord
from apps.api.services import record_api_key_write

HEADER = "Idempotency-Key"
KEY_LIFETIME = dt.timedelta(hours=24)
# A claim this old whose transaction never committed belongs to a dead process: no write
# happened (the write commits with the completion), so a retry may take the key over.
ABANDONED_AFTER = dt.timedelta(minutes=10)
REPLAYED_HEADERS = ("Location", "ETag")

Handler = Callable[..., Response]


def _canonical_body(request: Request) -> str:
    return json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(request: Request) -> str:
    text = f"{request.method}\n{request.path}\n{_canonical_body(request)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(32 <= ord(ch) < 127 for ch in key)


def claim(*, client: str, key: str, request_fingerprint: str) -> tuple[IdempotencyRecord | None, bool]:
    """(record, True) when this request owns the key; (existing record or None, False) otherwise."""
    now = timezone.now()
    with transaction.atomic():
        stale = IdempotencyRecord.objects.filter(client=client, key=key)
        stale.filter(expires_at__lte=now).delete()
        stale.filter(status=IdempotencyRecord.Status.IN_PROGRESS, created_at__lte=now - ABANDONED_AFTER).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    client=client, key=key, fingerprint=request_fingerprint, expires_at=now + KEY_LIFETIME
                )
            return record, True
        except IntegrityError:
            return IdempotencyRecord.objects.filter(client=client, key=key).first(), False


def _stored_headers(response: Response) -> dict[str, str]:
    return {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}


def _store(record: IdempotencyRecord, response: Response) -> None:
    record.status = IdempotencyRecord.Status.COMPLETED
    record.response_status = response.status_code
    record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
    record.response_headers = _stored_headers(response)
    if response.content_type:
        record.response_headers["Content-Type"] = response.content_type
    record.save(update_fields=["status", "response_status", "response_body", "response_headers"])


def _replay(record: IdempotencyRecord) -> Response:
    headers = dict(record.response_headers)
    content_type = headers.pop("Content-Type", None)
    headers["Idempotent-Replayed"] = "true"
    return Response(record.response_body, status=record.response_status, headers=headers, content_type=content_type)


def attribute_write(request: Request, response: Response) -> None:
    """Record which API key made a successful write (inside the write's transaction)."""
    api_key = api_key_of(request)
    if api_key is not None and response.status_code < 400:
        record_api_key_write(api_key=api_key, method=request.method, path=request.path, status=response.status_code)


def run_write(view: Any, handler: Handler, request: Request, *args: Any, **kwargs: Any) -> Response:
    """Run a write in one transaction with its attribution (no idempotency key involved)."""
    with transaction.atomic():
        response = handler(view, request, *args, **kwargs)
        attribute_write(request, response)
    return response


def idempotent(*, required: bool = True) -> Callable[[Handler], Handler]:
    """Decorate a POST handler. `required=True` for POSTs that create records."""

    def decorator(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise IdempotencyKeyMissing()
                return run_write(view, handler, request, *args, **kwargs)
            if not _valid_key(key):
                raise IdempotencyKeyInvalid()
            request_fingerprint = fingerprint(request)
            record, owned = claim(client=client_id(request), key=key, request_fingerprint=request_fingerprint)
            if not owned:
                if record is not None and record.fingerprint != request_fingerprint:
                    raise IdempotencyKeyReused()
                if record is None or record.status == IdempotencyRecord.Status.IN_PROGRESS:
                    raise IdempotencyKeyInFlight()
                return _replay(record)
            assert record is not None  # owned implies a record  # nosec B101
            try:
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs)
                    attribute_write(request, response)
                    _store(record, response)
                return response
            except Exception as exc:
                try:
                    # The write rolled back; render the error as the view would (re-raises a bug).
                    response = view.handle_exception(exc)
                except BaseException:
                    record.delete()
                    raise
                if response.status_code >= 500:
                    record.delete()
                else:
                    _store(record, response)
                return response

        wrapper.idempotency = "required" if required else "optional"  # type: ignore[attr-defined]
        return wrapper

    return decorator


def purge_expired_records() -> int:
    """Forget keys older than 24 hours (run daily; expired keys are also ignored on use)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
