"""Read replicas with read-your-writes (docs/operations.md, "Read replicas").

With DATABASE_REPLICA_URL set there is a second alias, "replica". Reads go there only inside
`replica_reads()`, which ReplicaRoutingMiddleware opens for a GET/HEAD request of a session
that has not written in the last FINPULSE_REPLICA_PIN_SECONDS. Everything else reads from the
primary: writes and the request that wrote (pinned from its first write on), any read inside
a transaction on the primary (a service's read-modify-write must never see stale rows), POSTs,
background jobs and commands, sessions, the database cache, sign-in state and beat schedules.
Migrations run on the primary only.

If the replica cannot be reached, reads go to the primary (finpulse_db_replica_fallbacks_total)
and the replica is not tried again for FINPULSE_REPLICA_RETRY_SECONDS, so an outage costs one
connection timeout per process, not one per request.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

logger = logging.getLogger(__name__)

REPLICA = "replica"
# Whose rows must always be read where they were just written.
PRIMARY_ONLY_APPS = frozenset({"sessions", "django_cache", "axes", "django_celery_beat", "otp_totp", "contenttypes"})


class _RoutingState:
    """Per request (or job): may reads use the replica, and has anything been written yet."""

    __slots__ = ("replica_allowed", "wrote")

    def __init__(self, *, replica_allowed: bool) -> None:
        self.replica_allowed = replica_allowed
        self.wrote = False


_state: contextvars.ContextVar[_RoutingState | None] = contextvars.ContextVar("db_routing", default=None)
_replica_down_until = 0.0


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads(*, allowed: bool = True) -> Iterator[_RoutingState]:
    """Let reads in this block use the replica until the first write (which pins the rest to the primary)."""
    state = _RoutingState(replica_allowed=allowed and replica_configured())
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)


def pin_to_primary() -> None:
    """From now on in this request or job, every read goes to the primary."""
    state = _state.get()
    if state is not None:
        state.wrote = True


def _replica_reachable() -> bool:
    """Connect (or check the open connection) once; on failure stop trying for a while."""
    global _replica_down_until  # one circuit per process, by design
    if time.monotonic() < _replica_down_until:
        return False
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError as error:
        _replica_down_until = time.monotonic() + settings.FINPULSE_REPLICA_RETRY_SECONDS
        logger.warning(
            "Read replica unreachable (%s); reading from the primary for %s s.",
            type(error).__name__,
            settings.FINPULSE_REPLICA_RETRY_SECONDS,
        )
        with contextlib.suppress(DatabaseError):
            connection.close()
        return False
    return True


def reset_replica_circuit() -> None:
    global _replica_down_until
    _replica_down_until = 0.0


class PrimaryReplicaRouter:
    """Reads to the replica only where it is safe (see the module docstring); writes to the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        state = _state.get()
        if state is None or not state.replica_allowed or state.wrote:
            return DEFAULT_DB_ALIAS
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if not _replica_reachable():
            from apps.core.metrics import REPLICA_FALLBACKS

            REPLICA_FALLBACKS.inc()
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        pin_to_primary()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
