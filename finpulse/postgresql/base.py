"""Django's PostgreSQL backend; the per-request health check is an empty query sent by libpq, and
timestamps with a time zone are read by psycopg's C loader.

With `CONN_HEALTH_CHECKS` (decision 143) Django checks a reused connection before each
request's first query: psycopg opens a cursor and runs `SELECT 1`, about 120 us of web CPU
per request (the cursor, the query's adaptation, psycopg's generators), most of it around a
round trip that costs 18 us when libpq sends an empty query itself (`PQexec("")`). The check
is the same: the server must answer on this connection, or Django closes it and opens a new
one. It is taken only where the two answer alike: a connection idle outside a transaction
(the state Django checks it in at a request's start). In a transaction, or one that failed
(where `SELECT 1` is refused but an empty query would not be), Django's own check runs.

Django reads every `timestamptz` value through its own loader, a subclass of psycopg's pure-Python
one, so that each value gets the connection's time zone: about 5 us a value (a page reads 20-50).
With the database in UTC, as FinPulse runs it, psycopg's C loader (psycopg-binary) gives the very
same value (an aware datetime in `datetime.timezone.utc`) in about a fifth of that time; the C
class cannot be subclassed, so it is registered on each cursor this backend creates, after
Django's own choice (decision 193). In any other time zone, or without the C module, Django's
loader stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import is_psycopg3


def _c_timestamptz_loader() -> type | None:
    """psycopg's C loader of timestamptz text, when psycopg-binary (or psycopg-c) is installed."""
    if not is_psycopg3:
        return None
    from psycopg import _cmodule

    return getattr(_cmodule._psycopg, "TimestamptzLoader", None) if _cmodule._psycopg else None


_C_TIMESTAMPTZ = _c_timestamptz_loader()


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: Any = None) -> Any:
        cursor = super().create_cursor(name)
        # The C loader gives values in the session's time zone, which Django sets to self.timezone
        # (the same assumption Django's own loader makes): taken only when both are UTC.
        if _C_TIMESTAMPTZ is not None and self.timezone is dt.UTC:
            cursor.adapters.register_loader("timestamptz", _C_TIMESTAMPTZ)
        return cursor

    def is_usable(self) -> bool:
        if not is_psycopg3 or self.connection is None:
            return bool(super().is_usable())
        from psycopg import pq

        pgconn = self.connection.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())
        try:
            result = pgconn.exec_(b"")
        except base.Database.Error:
            return False
        return bool(result.status == pq.ExecStatus.EMPTY_QUERY)
