"""Cache entries that name a version, and the versions the services replace (decisions 134, 150, 157).

Some answers are kept in Redis until a service changes what they show: "this maker has no export
waiting", a viewer's branch options, a user's bell. Each entry names the version it was read at,
a random token kept under its own key with no expiry; an entry is believed only while it names the
current one. A service that changes the answer replaces the version at once and again once its
transaction commits (`replace_on_commit`): a read that began before the commit and stored its
answer after it names the old token. A reader that finds no version (never made, or evicted)
starts one (`start`) before it reads, so no old entry can name it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction


def start(key: str) -> str | None:
    """A new version under `key`, or None if another process stored one first (the reader then
    keeps nothing: the version it would name may already be out of date)."""
    token = secrets.token_hex(8)
    return token if cache.add(key, token, None) else None


def replace(keys: Iterable[str]) -> None:
    """New versions under `keys`, never seen before: every entry naming the old ones is out of date."""
    cache.set_many({key: secrets.token_hex(8) for key in keys}, None)


def replace_on_commit(keys: Iterable[str]) -> None:
    """Replace the versions now, and again once the caller's transaction commits."""
    keys = list(keys)
    replace(keys)
    transaction.on_commit(lambda: replace(keys))
