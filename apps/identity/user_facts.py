"""A signed-in user's roles and model permissions, remembered across their requests.

Nearly every page asks them (the navigation asks the roles, `can_reveal_pii` and the API ask a
permission): two or three queries a request for facts that change a few times a year. They are
kept in the cache per user for `FINPULSE_USER_FACTS_SECONDS` (60 by default with Redis; 0 turns
this off, and it is off with the database cache, where a cache read is a query too) and
forgotten at once when they change: a change of a user's groups or permissions, or of the user
row (superuser, active), drops that user's entry; a change of a group (its permissions, its
name, members added from the group's side) or of a permission drops everyone's (a version
number stored beside the entries). Writes that bypass the ORM's signals (a bulk insert into the
membership table) are seen within the time-to-live.

The entry's key carries the user's id and the instant they joined, so an entry never outlives
its user into another with the same id (a rebuilt database).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache

if TYPE_CHECKING:
    from apps.identity.models import User

VERSION_KEY = "user-facts:version"


def facts_enabled() -> bool:
    return settings.FINPULSE_USER_FACTS_SECONDS > 0


def joined_stamp(user: User) -> int:
    """The instant the user joined, in microseconds: in a cache key beside their id, so an entry
    never outlives its user into another with the same id (a rebuilt database)."""
    return int(user.date_joined.timestamp() * 1_000_000) if user.date_joined else 0


def _key(user: User) -> str:
    return f"user-facts:{user.pk}:{joined_stamp(user)}"


def _computed(user: User) -> dict[str, Any]:
    from django.contrib.auth.backends import ModelBackend

    backend = ModelBackend()  # the backend's own answer; only remembered here
    if user.is_superuser or not user.is_active:  # the backend's special cases: all, or nothing
        permissions = {*backend.get_user_permissions(user), *backend.get_group_permissions(user)}
        roles = set(user.groups.values_list("name", flat=True))
    else:
        # The roles and their permissions in one query (a group without permissions gives None).
        permissions = set(backend.get_user_permissions(user))
        roles = set()
        for name, app_label, codename in user.groups.values_list(
            "name", "permissions__content_type__app_label", "permissions__codename"
        ):
            roles.add(name)
            if codename:
                permissions.add(f"{app_label}.{codename}")
    return {"roles": sorted(roles), "permissions": sorted(permissions)}


def user_facts(user: User) -> dict[str, Any]:
    """{"roles": [...], "permissions": ["app.codename", ...]} for a saved user: one cache read,
    or the queries and one cache write when the entry is missing or out of date."""
    facts = user.__dict__.get("_facts")
    if facts is not None:
        return facts
    if not facts_enabled() or user.pk is None:
        facts = _computed(user)
    else:
        key = _key(user)
        found = cache.get_many([key, VERSION_KEY])
        version = found.get(VERSION_KEY, 0)
        facts = found.get(key)
        if facts is None or facts.get("version") != version:
            facts = {**_computed(user), "version": version}
            cache.set(key, facts, settings.FINPULSE_USER_FACTS_SECONDS)
    user.__dict__["_facts"] = facts
    return facts


def forget_user(user: User) -> None:
    """Drop one user's entry (and what this object remembered of it)."""
    for name in ("_facts", "role_names", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(name, None)
    if facts_enabled() and getattr(user, "pk", None) is not None:
        cache.delete(_key(user))


def forget_everyone() -> None:
    """Make every entry out of date (a group or a permission changed)."""
    if not facts_enabled():
        return
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet
        cache.set(VERSION_KEY, 1, None)


# --- signals: only to forget; nothing here decides anything ----------------------------------


def _user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_user(instance)


def _group_changed(sender: Any, **kwargs: Any) -> None:
    forget_everyone()


def _membership_changed(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    if not action.startswith("post_") and action != "pre_clear":
        return
    if reverse:
        forget_everyone()  # changed from the group's (or permission's) side: any of its users
    else:
        forget_user(instance)


def connect_signals() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="user_facts_user_saved")
    post_delete.connect(_user_saved, sender=user_model, dispatch_uid="user_facts_user_deleted")
    m2m_changed.connect(_membership_changed, sender=user_model.groups.through, dispatch_uid="user_facts_groups")
    m2m_changed.connect(
        _membership_changed, sender=user_model.user_permissions.through, dispatch_uid="user_facts_permissions"
    )
    m2m_changed.connect(_group_changed, sender=Group.permissions.through, dispatch_uid="user_facts_group_perms")
    for model in (Group, Permission):
        post_save.connect(_group_changed, sender=model, dispatch_uid=f"user_facts_{model.__name__}_saved")
        post_delete.connect(_group_changed, sender=model, dispatch_uid=f"user_facts_{model.__name__}_deleted")
