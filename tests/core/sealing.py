"""Sealing in tests: until every committed event is in a block.

The sealer stops at the horizon, the oldest transaction still running. A transaction of another
test (another database of the same server) may hold it back for a moment: the horizon leaves out
transactions seen running in other databases, but keeps one that ended between the snapshot and
the read of pg_stat_activity (decision 78). So a test that wants "everything sealed" seals until
it is, not once.
"""

from __future__ import annotations

import time

from apps.core.audit_seal import seal_pending
from apps.core.models import AuditBlock, AuditEvent


def seal_all(timeout: float = 120) -> list[AuditBlock]:
    """Seal until no event is left unsealed (or `timeout` seconds pass); the blocks sealed."""
    blocks: list[AuditBlock] = []
    deadline = time.monotonic() + timeout
    while True:
        blocks += seal_pending()
        if not unsealed() or time.monotonic() > deadline:
            return blocks
        time.sleep(0.1)


def unsealed() -> set[int]:
    """The ids of the events in no block (a test's database holds few)."""
    sealed = {pk for ids in AuditBlock.objects.values_list("event_ids", flat=True) for pk in ids}
    return set(AuditEvent.objects.values_list("pk", flat=True)) - sealed
