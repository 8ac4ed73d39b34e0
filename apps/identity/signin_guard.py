"""How many password sign-ins the web tier accepts: per account, per address, and at once.

A password hash is deliberately expensive (hundreds of milliseconds of CPU). Without a bound, a
burst of sign-ins (the 9 o'clock rush, or someone guessing) would occupy every web worker
thread with hashing and the pages of people already signed in would queue behind it. So:
- each account and each client address may try a limited number of sign-ins per window
  (a fixed window in the shared cache, so every web process counts together);
- each web process hashes at most `FINPULSE_SIGNIN_CONCURRENCY` passwords at a time; a sign-in
  that cannot start within a second is told to retry, and the other threads keep serving pages.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_slots: threading.BoundedSemaphore | None = None
_slots_size = 0
_slots_lock = threading.Lock()


class SignInRefused(Exception):
    """Too many sign-ins: the message is safe to show; `retry_after` is in seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The client's address: behind FINPULSE_PROXY_COUNT proxies, the one they saw, else the socket's."""
    proxies = settings.FINPULSE_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]  # no username or address in the cache
    return f"signin:{kind}:{digest}"


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def check_signin_rate(request: HttpRequest, *, username: str) -> None:
    """Raise SignInRefused when this account or this address has tried too often in the window."""
    window = settings.FINPULSE_SIGNIN_WINDOW_SECONDS
    limits = (
        ("account", username or "-", settings.FINPULSE_SIGNIN_PER_ACCOUNT),
        ("address", client_address(request), settings.FINPULSE_SIGNIN_PER_ADDRESS),
    )
    for kind, value, limit in limits:
        if _count(_key(kind, value), window) > limit:
            raise SignInRefused(
                f"Too many sign-in attempts from this {kind}. Try again in a few minutes.", retry_after=window
            )


def _semaphore() -> threading.BoundedSemaphore:
    global _slots, _slots_size
    size = max(1, settings.FINPULSE_SIGNIN_CONCURRENCY)
    with _slots_lock:
        if _slots is None or _slots_size != size:
            _slots, _slots_size = threading.BoundedSemaphore(size), size
        return _slots


@contextmanager
def signin_slot() -> Iterator[None]:
    """Hold one of this process's password-hashing slots, or raise SignInRefused after a second."""
    slots = _semaphore()
    if not slots.acquire(timeout=1.0):
        raise SignInRefused("Many people are signing in right now. Try again in a few seconds.", retry_after=5)
    try:
        yield
    finally:
        slots.release()
