"""Named leases in PostgreSQL: one statement each, so they work through PgBouncer's transaction
pooling, and they expire on their own when a holder disappears (a killed container whose TCP
connection lingers would keep a session advisory lock for as long as the kernel keeps it).

Time is the database's `now()`, one clock for every container. A holder renews well within the
lease; another process takes over only after `expires_at`, or at once when the holder releases
the lease on a clean shutdown (a rolling deploy).
"""

from __future__ import annotations

from typing import Any

ACQUIRE_SQL = """
INSERT INTO core_lease (name, holder, acquired_at, expires_at)
VALUES (%(name)s, %(holder)s, now(), now() + make_interval(secs => %(seconds)s))
ON CONFLICT (name) DO UPDATE
   SET holder = EXCLUDED.holder,
       expires_at = EXCLUDED.expires_at,
       acquired_at = CASE WHEN core_lease.holder = EXCLUDED.holder THEN core_lease.acquired_at ELSE now() END
 WHERE core_lease.holder = EXCLUDED.holder OR core_lease.expires_at < now()
RETURNING holder
"""


def acquire_lease(cursor: Any, *, name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease; False while someone else holds an unexpired one.

    `cursor` is a DB-API cursor in autocommit mode (Django's, or the beat's own connection).
    """
    cursor.execute(ACQUIRE_SQL, {"name": name, "holder": holder, "seconds": seconds})
    return cursor.fetchone() is not None


def release_lease(cursor: Any, *, name: str, holder: str) -> None:
    cursor.execute("DELETE FROM core_lease WHERE name = %s AND holder = %s", [name, holder])


def lease_holders(cursor: Any, *, name: str) -> list[str]:
    cursor.execute("SELECT holder FROM core_lease WHERE name = %s AND expires_at > now()", [name])
    return [row[0] for row in cursor.fetchall()]
