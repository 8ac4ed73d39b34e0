"""A beat scheduler that sends only while it holds a PostgreSQL advisory lock.

Two beat processes would send every periodic task twice (Celery's known trap). Each beat
tries `pg_try_advisory_lock` on a connection of its own (not Django's, which Django may
close between ticks and so silently drop the lock); the one that gets it sends, any other
stays idle and retries every few seconds, taking over if the holder dies (its connection,
and with it the lock, goes away). Works without Redis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import Any

import psycopg
from django.db import connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

BEAT_LOCK_ID = 0x46505F4245415400  # "FP_BEAT"


def beat_name() -> str:
    return f"finpulse-beat {socket.gethostname()} {os.getpid()}"[:63]


def beat_lock_holders() -> list[str]:
    """Who holds the beat lock now ("finpulse-beat <host> <pid>"), read from pg_locks for /metrics."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT a.application_name, l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
            [BEAT_LOCK_ID >> 32, BEAT_LOCK_ID & 0xFFFFFFFF],
        )
        return [name or f"pid {pid}" for name, pid in cursor.fetchall()]


class LockedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's DatabaseScheduler (schedules edited in Django admin), one at a time."""

    standby_seconds = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock_connection: Any = None
        self._holds_lock = False
        self._announced_standby = False
        super().__init__(*args, **kwargs)

    def _open_lock_connection(self) -> Any:
        wrapper = connections["default"]
        # Named, so /metrics (finpulse_beat_lock_held) can tell which container holds the lock.
        params = {**wrapper.get_connection_params(), "application_name": beat_name()}
        raw = wrapper.get_new_connection(params)
        raw.autocommit = True
        return raw

    def holds_lock(self) -> bool:
        """True while this process holds the beat lock (checks the session is still alive)."""
        try:
            if self._lock_connection is None or self._lock_connection.closed:
                self._lock_connection = self._open_lock_connection()
                self._holds_lock = False
            with self._lock_connection.cursor() as cursor:
                if self._holds_lock:
                    cursor.execute("SELECT 1")
                    return True
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_ID])
                got = bool(cursor.fetchone()[0])
        except (psycopg.Error, OSError) as error:  # not sure we hold it: stand by, reconnect later
            logger.warning("Beat lock check failed (%s); standing by.", type(error).__name__)
            self._drop_lock_connection()
            return False
        if got:
            logger.info("Beat lock taken: this beat sends the periodic tasks.")
            # Read the schedule afresh: the previous holder may have run entries since we loaded them.
            self._initial_read = True
            self._heap = None
            self._announced_standby = False
        elif not self._announced_standby:
            logger.info("Another beat holds the lock: this beat stays idle.")
            self._announced_standby = True
        self._holds_lock = got
        return got

    def _drop_lock_connection(self) -> None:
        self._holds_lock = False
        if self._lock_connection is not None:
            # A broken connection may not close cleanly; it is gone either way.
            with contextlib.suppress(psycopg.Error, OSError):
                self._lock_connection.close()
        self._lock_connection = None

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.holds_lock():
            return self.standby_seconds
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._drop_lock_connection()
