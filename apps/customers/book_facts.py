"""What a viewer's book holds that a page shows beside it, remembered across their requests.

The customer list's branch filter offers the branches of the viewer's customers: a query over
the whole book (about 2 ms for a book of 500) on every list and search page, for an answer that
changes only when customers are created, assigned, moved to another branch, restricted or
erased, opened by a break-glass grant, or a branch is renamed, opened or closed. It is kept in
the cache with the user facts (apps/identity/user_facts.py: the same switch, off without Redis),
per viewer: under their id, the instant they joined and what decides their book (whether they
see every customer, a branch manager's branch), so one viewer's entry is never another's.

Each entry names the version of the books it was read at (a random token), and every service
that changes a book replaces the version (`forget_books`) at once and again when its transaction
commits, so a read that began before the commit and stored its answer after it is not believed;
an evicted version is replaced by a new one, which no old entry names.
A break-glass grant ends without any service: an entry read while one is in force lives only
until the soonest grant ends. Writes that no service announces (SQL by hand) are seen within
KEEP_SECONDS. Decision 150.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db.models import Min, Subquery
from django.utils import timezone

from apps.core import versions
from apps.customers.models import BreakGlassGrant
from apps.customers.visibility import CustomerScope, customer_scope
from apps.identity.models import Branch
from apps.identity.user_facts import facts_enabled, joined_stamp

if TYPE_CHECKING:
    from apps.identity.models import User

VERSION_KEY = "book-facts:version"
KEEP_SECONDS = 600  # the bound for a change no service announces

BranchOptions = tuple[tuple[int, str], ...]


def book_branches_keys(user: User) -> list[str]:
    """The cache keys book_branches reads for `user` (none when it reads no cache), for a caller
    that reads them in one round trip with its own (decision 187)."""
    scope = customer_scope(user=user)
    if scope.sees_none or not facts_enabled():
        return []
    return [_key(user, scope), VERSION_KEY]


def book_branches(user: User, *, found: Mapping[str, Any] | None = None) -> BranchOptions:
    """The active branches of the customers `user` may see, as (id, label), by name: one cache
    read, or the query and one cache write when the entry is missing or out of date.

    `found`: what a `get_many` of `book_branches_keys(user)` (and maybe other keys) just read, so
    that this reads no cache itself."""
    scope = customer_scope(user=user)
    if scope.sees_none:
        return ()
    if not facts_enabled():
        return _read(scope)[0]
    key = _key(user, scope)
    if found is None:
        found = cache.get_many([key, VERSION_KEY])
    # Read before the query: a change committed while it runs replaces the version after it.
    version = found.get(VERSION_KEY) or _new_version()
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    branches, grant_ends = _read(scope)
    seconds = KEEP_SECONDS
    if grant_ends is not None:
        seconds = max(1, min(seconds, math.ceil((grant_ends - timezone.now()).total_seconds())))
    cache.set(key, (version, branches), seconds)
    return branches


def _key(user: User, scope: CustomerScope) -> str:
    joined = joined_stamp(user)
    book = "all" if scope.sees_all else scope.branch_id or "own"
    return f"book-facts:branches:{user.pk}:{joined}:{book}"


def _read(scope: CustomerScope) -> tuple[BranchOptions, dt.datetime | None]:
    """The options, and when the soonest break-glass grant in force for the viewer ends (None if
    they hold none): one statement, the grants an uncorrelated subquery of it."""
    branches = Branch.objects.filter(is_active=True, pk__in=scope.customers().order_by().values("branch_id"))
    branches = branches.only("id", "name", "code").order_by("name", "id")
    if scope.sees_all:  # no grant widens their book
        return tuple((branch.pk, str(branch)) for branch in branches), None
    now = timezone.now()
    soonest = (
        BreakGlassGrant.objects.filter(user_id=scope.user_id, starts_at__lte=now, expires_at__gt=now)
        .order_by()
        .values("user_id")
        .annotate(soonest=Min("expires_at"))
        .values("soonest")
    )
    rows = list(branches.annotate(grant_ends=Subquery(soonest)))
    grant_ends = rows[0].grant_ends if rows else None  # type: ignore[attr-defined]  # the annotation
    return tuple((branch.pk, str(branch)) for branch in rows), grant_ends


def forget_books() -> None:
    """Make every remembered book fact out of date: now, and again once the caller's transaction
    commits (a read between the two could otherwise store what the transaction had not yet shown)."""
    if facts_enabled():
        versions.replace_on_commit([VERSION_KEY])


def _new_version() -> str:
    """The version when none is stored (never yet, or evicted): a new one, unless another
    process stored one first (then theirs; a token no entry names if it is gone again)."""
    return versions.start(VERSION_KEY) or cache.get(VERSION_KEY) or secrets.token_hex(8)


# --- signals: only to forget; a branch has no service (it is edited in the admin) ------------


def _branch_changed(sender: object, **kwargs: object) -> None:
    forget_books()


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_branch_changed, sender=Branch, dispatch_uid="book_facts_branch_saved")
    post_delete.connect(_branch_changed, sender=Branch, dispatch_uid="book_facts_branch_deleted")
