"""Reads of notifications: a user sees only their own in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.core.compiled import CompiledQuery
from apps.core.errors import NotFound
from apps.notifications.models import DEFAULT_CHANNELS, EMPLOYEE_KINDS, Channel, Notification, NotificationPreference

if TYPE_CHECKING:
    from apps.identity.models import User


def user_notifications(*, user: User) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first (nobody reads another's)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_user=user, channel=Channel.IN_APP).order_by("-created_at", "-id")


def unread_notifications(*, user: User, limit: int = 10) -> list[Notification]:
    """The user's newest unread in-app notifications (the dashboard's panel, the bell's list)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return _unread(limit).rows(user_id=user.pk)


# Stands for the user's id while the unread list is compiled (no user has it).
_MARK_USER = -20261208


@lru_cache(maxsize=8)
def _unread(limit: int) -> CompiledQuery[Notification]:
    """user_notifications' unread ones, `limit` of them: one text for every user, compiled once per
    process (apps/core/compiled.py); building and compiling it was most of the panel's CPU (decision 128).
    """
    return CompiledQuery(
        Notification,
        lambda user_id: user_notifications(user=get_user_model()(pk=user_id)).filter(read_at__isnull=True)[:limit],
        user_id=_MARK_USER,
    )


def unread_count(*, user: User) -> int:
    return user_notifications(user=user).filter(read_at__isnull=True).count()


def notification_for_user(*, user: User, notification_id: Any) -> Notification:
    try:
        return user_notifications(user=user).get(pk=int(notification_id))
    except (Notification.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such notification.") from None


def chosen_channels(*, user_ids: Iterable[int], kinds: Iterable[str]) -> dict[tuple[int, str], set[str]]:
    """{(user id, kind): channels} from each user's preferences over the defaults (one query)."""
    user_ids, kinds = set(user_ids), set(kinds)
    defaults: dict[str, set[Channel]] = {str(kind): channels for kind, channels in DEFAULT_CHANNELS.items()}
    chosen: dict[tuple[int, str], set[str]] = {
        (uid, kind): set(defaults.get(kind, {Channel.IN_APP})) for uid in user_ids for kind in kinds
    }
    if not user_ids:
        return chosen
    rows = NotificationPreference.objects.filter(user_id__in=user_ids, kind__in=kinds).values_list(
        "user_id", "kind", "channel", "enabled"
    )
    for uid, kind, channel, enabled in rows:
        if enabled:
            chosen[(uid, kind)].add(channel)
        else:
            chosen[(uid, kind)].discard(channel)
    return chosen


def preference_matrix(*, user: User) -> list[dict[str, Any]]:
    """Rows for the preferences page: each kind with the channels currently on."""
    chosen = chosen_channels(user_ids=[user.pk], kinds=EMPLOYEE_KINDS)
    return [
        {
            "kind": kind.value,
            "label": kind.label,
            "channels": [
                {"value": channel.value, "label": channel.label, "on": channel.value in chosen[(user.pk, kind.value)]}
                for channel in Channel
            ],
        }
        for kind in EMPLOYEE_KINDS
    ]


def failed_notifications() -> QuerySet[Notification]:
    """For administrators: what ran out of attempts (the dead-letter view)."""
    return Notification.objects.filter(status=Notification.Status.FAILED).select_related(
        "recipient_user", "recipient_customer"
    )
