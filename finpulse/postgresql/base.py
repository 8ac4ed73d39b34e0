"""Django's PostgreSQL backend; the per-request health check is an empty query sent by libpq.

With `CONN_HEALTH_CHECKS` (decision 143) Django checks a reused connection before each
request's first query: psycopg opens a cursor and runs `SELECT 1`, about 120 us of web CPU
per request (the cursor, the query's adaptation, psycopg's generators), most of it around a
round trip that costs 18 us when libpq sends an empty query itself (`PQexec("")`). The check
is the same: the server must answer on this connection, or Django closes it and opens a new
one. It is taken only where the two answer alike: a connection idle outside a transaction
(the state Django checks it in at a request's start). In a transaction, or one that failed
(where `SELECT 1` is refused but an empty query would not be), Django's own check runs.
"""

from __future__ import annotations

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import is_psycopg3


class DatabaseWrapper(base.DatabaseWrapper):
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
