"""The bell's contents (the unread count and the newest few unread), kept per user in the cache.

Browsers ask for the bell after every page (htmx, `hx-trigger="load"`) and every minute: two
queries each time for a count that changes a few times a day (decision 157). The contents are
kept in Redis per user and read with one cache round trip; only the services that change a
user's unread in-app notifications make them out of date (`unread_changed`): writing new ones
(`enqueue_notifications`), and marking one or all read. Nothing else writes `read_at` or an
in-app row (the admin is read-only; customers have no in-app inbox).

An entry is believed only if it names the user's current version, a random token that each of
those changes replaces, at once and again once committed: a bell read that began before the
change was committed and stored its contents afterwards names the old token, and an evicted
version never matches an old entry (the next read starts a new one). The entry also carries
the instant the user joined, so it never outlives its user into another with the same id (a
rebuilt database). Without Redis nothing is kept (a database cache read is a query too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache

from apps.core import versions
from apps.identity.user_facts import joined_stamp
from apps.notifications.selectors import unread_count, unread_notifications

if TYPE_CHECKING:
    from apps.identity.models import User

BELL_LATEST = 5
# A change makes an entry out of date at once; this bounds memory, and how long a change whose
# new version could not be written (Redis unreachable just then) goes unseen.
BELL_SECONDS = 10 * 60


def _keys(user_id: int) -> tuple[str, str]:
    return f"bell:{user_id}", f"bell:version:{user_id}"


def bell_contents(*, user: User) -> dict[str, Any]:
    """{"count": unread in-app notifications, "latest": the newest BELL_LATEST of them, each with
    its pk, subject and created_at}: one cache read, or two queries when out of date."""
    if not settings.REDIS_URL:
        return _read(user)
    entry_key, version_key = _keys(user.pk)
    found = cache.get_many([entry_key, version_key])
    version, entry = found.get(version_key), found.get(entry_key)
    if (
        version is not None
        and entry is not None
        and entry["version"] == version
        and entry["joined"] == joined_stamp(user)
    ):
        return entry["contents"]
    if version is None:  # no version yet (or evicted): start one, unless a change just did
        version = versions.start(version_key)
    contents = _read(user)  # read after the version: a change committed meanwhile replaces it
    if version is not None:
        cache.set(entry_key, {"version": version, "joined": joined_stamp(user), "contents": contents}, BELL_SECONDS)
    return contents


def _read(user: User) -> dict[str, Any]:
    latest = unread_notifications(user=user, limit=BELL_LATEST)
    return {
        "count": unread_count(user=user) if len(latest) == BELL_LATEST else len(latest),
        "latest": [{"pk": row.pk, "subject": row.subject, "created_at": row.created_at} for row in latest],
    }


def unread_changed(user_ids: Iterable[int | None]) -> None:
    """These users' unread in-app notifications changed: their bells are out of date now, and
    again once the caller's transaction commits (a bell read in between may store its own)."""
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if not ids or not settings.REDIS_URL:
        return
    versions.replace_on_commit(_keys(user_id)[1] for user_id in ids)
