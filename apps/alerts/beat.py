"""A beat scheduler that sends only while it holds the beat lease (apps.core.leases).

Two beat processes would send every periodic task twice (Celery's known trap). Each beat
tries to take or renew the lease "beat" on a connection of its own (not Django's, which
Django may close between ticks) at every tick; the one that holds it sends, any other stays
idle and retries every few seconds. A beat that stops cleanly (SIGTERM in a rolling deploy)
releases the lease and a standby takes over within seconds; one that vanishes (killed, its
host lost) loses it when it expires after FINPULSE_BEAT_LEASE_SECONDS. A lease, unlike the
session advisory lock used before, works through PgBouncer's transaction pooling and cannot
be kept alive by a half-open TCP connection. Works without Redis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django_celery_beat.schedulers import DatabaseScheduler

from apps.core.leases import acquire_lease, lease_holders, release_lease

logger = logging.getLogger(__name__)

BEAT_LEASE = "beat"


def beat_name() -> str:
    return f"finpulse-beat {socket.gethostname()} {os.getpid()}"[:128]


def beat_lock_holders() -> list[str]:
    """Who holds the beat lease now ("finpulse-beat <host> <pid>"), for /metrics."""
    with connections["default"].cursor() as cursor:
        return lease_holders(cursor, name=BEAT_LEASE)


class LockedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's DatabaseScheduler (schedules edited in Django admin), one at a time."""

    standby_seconds = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock_connection: Any = None
        self._holds_lock = False
        self._announced_standby = False
        self._name = beat_name()
        super().__init__(*args, **kwargs)

    @property
    def lease_seconds(self) -> float:
        return float(settings.FINPULSE_BEAT_LEASE_SECONDS)

    def _open_lock_connection(self) -> Any:
        wrapper = connections["default"]
        params = {**wrapper.get_connection_params(), "application_name": self._name[:63]}
        raw = wrapper.get_new_connection(params)
        raw.autocommit = True
        return raw

    def holds_lock(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        try:
            if self._lock_connection is None or self._lock_connection.closed:
                self._lock_connection = self._open_lock_connection()
            with self._lock_connection.cursor() as cursor:
                got = acquire_lease(cursor, name=BEAT_LEASE, holder=self._name, seconds=self.lease_seconds)
        except (psycopg.Error, OSError) as error:  # not sure we hold it: stand by, reconnect later
            logger.warning("Beat lease check failed (%s); standing by.", type(error).__name__)
            self._drop_lock_connection()
            self._holds_lock = False
            return False
        if got and not self._holds_lock:
            logger.info("Beat lease taken: this beat sends the periodic tasks.")
            # Read the schedule afresh: the previous holder may have run entries since we loaded them.
            self._initial_read = True
            self._heap = None
            self._announced_standby = False
        elif not got and not self._announced_standby:
            logger.info("Another beat holds the lease: this beat stays idle.")
            self._announced_standby = True
        self._holds_lock = got
        return got

    def _drop_lock_connection(self) -> None:
        if self._lock_connection is not None:
            # A broken connection may not close cleanly; it is gone either way.
            with contextlib.suppress(psycopg.Error, OSError):
                self._lock_connection.close()
        self._lock_connection = None

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.holds_lock():
            return self.standby_seconds
        # Wake up at least three times per lease to renew it, however far the next task is.
        return min(super().tick(*args, **kwargs), self.lease_seconds / 3)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holds_lock and self._lock_connection is not None:
                # A clean stop (rolling deploy) hands over at once instead of after expiry.
                with contextlib.suppress(psycopg.Error, OSError), self._lock_connection.cursor() as cursor:
                    release_lease(cursor, name=BEAT_LEASE, holder=self._name)
                    logger.info("Beat lease released.")
            self._holds_lock = False
            self._drop_lock_connection()
